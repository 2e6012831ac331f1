"""``python -m nvmidl.apps.evaluate`` (the SDK's ``commands/*.sh``): ``clara validate`` with the same arguments."""

if __name__ == "__main__":
    from clara_core.cli.sdk_apps import run_sdk_app

    raise SystemExit(run_sdk_app("evaluate"))
