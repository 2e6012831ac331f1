"""``nvmidl.apps.automl``: the SDK's AutoML application, run by ``clara automl``."""
