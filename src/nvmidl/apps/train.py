"""``python -m nvmidl.apps.train`` (the SDK's ``commands/*.sh``): ``clara train`` with the same arguments."""

if __name__ == "__main__":
    from clara_core.cli.sdk_apps import run_sdk_app

    raise SystemExit(run_sdk_app("train"))
