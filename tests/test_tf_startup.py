"""TensorFlow's native start-up lines are held to TF_CPP_MIN_LOG_LEVEL (clara_core.cli.tf_startup)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from clara_core.cli.tf_startup import hidden

NATIVE = re.compile(r"^(WARNING: All log messages before absl|[IWE]\d{4} )", re.M)
IMPORT = ("from clara_core.cli.tf_startup import quiet_tensorflow_startup; "
          "quiet_tensorflow_startup(); import keras; print('ok')")


def _stderr(level: str) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=level)
    out = subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    return out.stderr


def test_the_default_level_hides_the_start_up_lines_that_level_0_shows():
    loud = _stderr("0")
    if not NATIVE.search(loud):
        pytest.skip("TensorFlow printed no start-up lines on this machine")
    assert not NATIVE.search(_stderr("2")), "start-up lines passed the default level"


def test_each_level_hides_what_tensorflow_documents():
    info = "I0000 00:00:1.5 7 port.cc:153] oneDNN custom operations are on."
    warning = "W0000 00:00:1.5 7 cuda_dnn.cc:1] Unable to register cuDNN factory"
    error = "E0000 00:00:1.5 7 gpu_device.cc:2] could not open file to read NUMA node"
    assert [hidden(info, n, False) for n in range(4)] == [False, True, True, True]
    assert [hidden(warning, n, False) for n in range(4)] == [False, False, True, True]
    assert [hidden(error, n, False) for n in range(4)] == [False, False, False, True]
    assert not hidden("Traceback (most recent call last):", 3, False)
