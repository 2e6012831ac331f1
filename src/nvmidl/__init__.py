"""The Clara Train SDK's entry-point modules (``python -m nvmidl.apps.train`` and the
others its ``commands/*.sh`` call), each running the ``clara`` command that does the
same: see :mod:`clara_core.cli.sdk_apps`. Nothing else of the SDK lives here."""
