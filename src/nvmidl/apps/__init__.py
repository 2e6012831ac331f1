"""``nvmidl.apps``: the SDK's applications, run by ``clara`` (see :mod:`clara_core.cli.sdk_apps`)."""
