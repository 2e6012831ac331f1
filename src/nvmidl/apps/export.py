"""``python -m nvmidl.apps.export`` (the SDK's ``commands/*.sh``): ``clara export`` with the same arguments."""

if __name__ == "__main__":
    from clara_core.cli.sdk_apps import run_sdk_app

    raise SystemExit(run_sdk_app("export"))
