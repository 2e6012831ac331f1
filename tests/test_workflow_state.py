"""Resume points (``clara_core.workflow.resume_point``) and the end-of-run picture, in process."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clara_core.components.run_state import RunState
from clara_core.errors import ClaraError
from clara_core.mmar.run_folder import RunFolder
from clara_core.workflow.report import SliceExample, write_report_png
from clara_core.workflow.resume_point import load_resume_point, save_resume_point


def tiny(units: int = 3, dropout: bool = True):  # type: ignore[no-untyped-def]
    import keras

    inputs = keras.Input((4,))
    x = keras.layers.Dense(units)(inputs)
    if dropout:
        x = keras.layers.Dropout(0.5)(x)
    model = keras.Model(inputs, x)
    optimizer = keras.optimizers.Adam(1e-2)
    optimizer.build(model.trainable_variables)
    return model, optimizer


def train_a_step(model, optimizer) -> None:  # type: ignore[no-untyped-def]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(tf.ones((2, 4)), training=True) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))


def test_resume_point_restores_weights_optimizer_and_seed_state(tmp_path):
    model, opt = tiny()
    train_a_step(model, opt)
    state = RunState(epochs=4, epochs_done=2, step=5, learning_rate=0.01, step_losses=[0.5],
                     lr_policy={"scale": 0.1}, best_key_metric=0.7, best_epoch=2)
    save_resume_point(RunFolder(str(tmp_path)), model, opt, state)

    other, other_opt = tiny()
    restored = RunState(epochs=4)
    load_resume_point(RunFolder(str(tmp_path)), other, other_opt, restored)
    assert restored == state
    for a, b in zip(model.variables + opt.variables, other.variables + other_opt.variables,
                    strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(other_opt.iterations) == 1


def test_a_new_resume_point_replaces_the_old_bundle(tmp_path):
    model, opt = tiny()
    save_resume_point(RunFolder(str(tmp_path)), model, opt, RunState(epochs_done=1))
    save_resume_point(RunFolder(str(tmp_path)), model, opt, RunState(epochs_done=2))
    bundles = sorted(p.name for p in tmp_path.glob("resume-*.npz"))
    assert bundles == ["resume-e00002-s000000.npz"]
    assert json.loads((tmp_path / "train_state.json").read_text())["bundle"] == bundles[0]


def test_resume_into_a_different_model_names_the_variable(tmp_path):
    model, opt = tiny(units=3)
    save_resume_point(RunFolder(str(tmp_path)), model, opt, RunState(epochs_done=1))
    other, other_opt = tiny(units=5)
    with pytest.raises(ClaraError, match=r"has shape \(4, 5\) in this config but \(4, 3\)"):
        load_resume_point(RunFolder(str(tmp_path)), other, other_opt, RunState())


def test_resume_with_a_missing_bundle_says_what_to_do(tmp_path):
    model, opt = tiny()
    save_resume_point(RunFolder(str(tmp_path)), model, opt, RunState(epochs_done=1))
    for bundle in tmp_path.glob("resume-*.npz"):
        bundle.unlink()
    with pytest.raises(ClaraError, match="fine-tune from model_latest.weights.h5"):
        load_resume_point(RunFolder(str(tmp_path)), model, opt, RunState())


def test_report_png_with_curves_and_a_slice(tmp_path):
    records = [{"epoch": 1, "loss": 0.9}, {"epoch": 2, "loss": 0.5, "mean_dice": 0.7}]
    label = np.zeros((8, 8, 4), np.uint8)
    label[2:5, 2:5, 1] = 1
    example = SliceExample("case", np.random.default_rng(0).random((1, 8, 8, 4)), label, label)
    path = write_report_png(str(tmp_path / "t.png"), records, example, "mean_dice")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    path = write_report_png(str(tmp_path / "u.png"), records[:1], None)
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_progress_bar_learns_the_epoch_length_and_shows_loss_and_rate(capsys):
    from clara_core.workflow.progress import TrainProgress

    with TrainProgress(epochs=3, enabled=True) as bar:
        for epoch in range(2):
            bar.start_epoch(epoch)
            for _ in range(4):
                bar.step(0.5, samples=2)
            bar.end_epoch()
        task = bar._bar.tasks[0]
        assert task.completed == 8 and task.total == 12  # 4 steps x 3 epochs, learnt in epoch 1
        assert task.fields["loss"] == 0.5 and task.fields["rate"] > 0
        bar.log("epoch=2 loss=0.5")
    assert "epoch=2 loss=0.5" in capsys.readouterr().err
