"""``python -m nvmidl.apps.automl.train`` (the SDK's ``commands/automl.sh``): ``clara automl`` with the same arguments."""

if __name__ == "__main__":
    from clara_core.cli.sdk_apps import run_sdk_app

    raise SystemExit(run_sdk_app("automl.train"))
