"""An MMAR on disk, as runs leave it: the run folder's files
(:class:`~clara_core.mmar.run_folder.RunFolder`) and the model a run trained
(:func:`~clara_core.mmar.trained_model.load_trained_model`). Below the config, data and
workflow layers, so components (model loaders) and commands share it."""
