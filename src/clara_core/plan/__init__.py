"""``clara plan``: a self-configuring MMAR from a dataset, in the manner of nnU-Net.

:mod:`.dataset` reads the dataset's description, :mod:`.fingerprint` reads every case
through the installed loaders, :mod:`.rules` turns the fingerprint into decisions with
their reasons and :mod:`.writer` writes the MMAR. Importing this package does no work.
"""
