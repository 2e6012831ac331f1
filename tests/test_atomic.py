"""The one atomic-write helper: files and folders replaced whole, nothing left on failure."""

from __future__ import annotations

import os
import threading

import pytest

from clara_core.atomic import atomic_path, atomic_write, atomic_write_json, replace_atomic
from clara_core.mmar.run_folder import RunFolder


def test_a_file_keeps_its_ending_and_replaces_the_old_one(tmp_path):
    target = tmp_path / "model_best.weights.h5"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert os.path.basename(tmp).startswith(".tmp-")
        assert tmp.endswith("model_best.weights.h5")  # Keras and nibabel go by the ending
        assert os.path.dirname(tmp) == str(tmp_path)  # same disk: the rename is atomic
        with open(tmp, "w") as f:
            f.write("new")
        assert target.read_text() == "old"  # readers see the old file meanwhile
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["model_best.weights.h5"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "train_state.json"
    atomic_write_json(target, {"epoch": 1})

    def half(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.write("{")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(target, half)
    assert target.read_text() == '{\n  "epoch": 1\n}'
    assert os.listdir(tmp_path) == ["train_state.json"]


def test_a_folder_replaces_a_folder_and_a_failed_one_is_removed(tmp_path):
    target = tmp_path / "savedmodel"
    target.mkdir()
    (target / "old.pb").write_text("old")
    with atomic_path(target) as tmp:
        os.makedirs(os.path.join(tmp, "variables"))
        with open(os.path.join(tmp, "saved_model.pb"), "w") as f:
            f.write("new")
    assert sorted(os.listdir(target)) == ["saved_model.pb", "variables"]
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        os.makedirs(tmp)
        raise RuntimeError("export failed")
    assert sorted(os.listdir(tmp_path)) == ["savedmodel"]
    assert (target / "saved_model.pb").read_text() == "new"


def test_replace_atomic_puts_a_file_where_a_folder_was(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "new").write_text("file")
    replace_atomic(str(tmp_path / "new"), str(tmp_path / "out"))
    assert (tmp_path / "out").read_text() == "file"
    assert os.listdir(tmp_path) == ["out"]


def test_threads_writing_one_target_never_share_a_temporary(tmp_path):
    target = tmp_path / "case_seg.nii.gz"
    seen: list[str] = []
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with atomic_path(target) as tmp:
                seen.append(tmp)
                with open(tmp, "w") as f:
                    f.write(str(i) * 1000)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(seen)) == 8
    assert len(set(target.read_text())) == 1  # one writer's whole file
    assert os.listdir(tmp_path) == ["case_seg.nii.gz"]


def test_what_a_crash_leaves_is_what_the_run_folder_clears(tmp_path):
    folder = RunFolder(str(tmp_path))
    with pytest.raises(KeyboardInterrupt), atomic_path(folder.weights("latest")) as tmp:
        with open(tmp, "w") as f:
            f.write("half")
        left = os.path.basename(tmp)
        raise KeyboardInterrupt
    assert not os.path.exists(tmp)  # removed on the way out
    (tmp_path / left).write_text("half")  # as if the process had been killed
    assert folder.remove_temporaries() == [left]
