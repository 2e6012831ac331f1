"""A fresh virtual environment next to the tested clara-core, for pip-installed packs."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path


class FreshEnv:
    """``python -m venv`` without pip; sees this environment's packages through a .pth
    file (clara-core, TensorFlow, ...); ``install`` pip-installs a source tree into it."""

    def __init__(self, root: Path) -> None:
        venv.create(root, with_pip=False)
        self.python = root / "bin" / "python"
        purelib = subprocess.run([str(self.python), "-c",
                                  "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        self.site = Path(purelib)
        here = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
        # addsitedir, not a bare path: it also runs those folders' own .pth files
        # (editable installs of clara-core and the plugins rely on them)
        lines = [f"import site; site.addsitedir({p!r})" for p in here]
        (self.site / "_clara_host.pth").write_text("\n".join(lines) + "\n")

    def install(self, source: Path) -> None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--no-build-isolation", "--disable-pip-version-check", "--target",
                        str(self.site), str(source)], check=True, capture_output=True)

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.python), *args], capture_output=True, text=True,
                              cwd=cwd, timeout=600)

    def clara(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "clara_core", *args)
