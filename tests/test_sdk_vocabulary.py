"""The rest of the SDK's vocabulary: NovoGrad, handlers, MergeBatchDims, pipeline names."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_clara
from train_mmar import make_train_mmar, records

from clara_core.registry.registry import Registry


def test_novograd_follows_the_papers_update_rule():
    import keras

    from clara_core.builtins.novograd import NovoGrad

    optimizer = NovoGrad(beta_1=0.9, beta_2=0.5, weight_decay=0.01).get_optimizer(0.1)
    w = keras.Variable(np.array([[1.0, -2.0], [0.5, 3.0]], "float32"))
    b = keras.Variable(np.array([0.3, -0.1], "float32"))
    ref = [w.numpy().astype(float), b.numpy().astype(float)]
    m, v = [0.0, 0.0], [None, None]
    for t in range(4):
        grads = [np.array([[0.1, 0.2], [-0.3, 0.4]]) * (t + 1), np.array([0.5, -0.5]) / (t + 1)]
        optimizer.apply_gradients([(g.astype("float32"), var)
                                   for g, var in zip(grads, (w, b), strict=True)])
        for i, g in enumerate(grads):  # Ginsburg et al. 2019, per layer
            norm = float((g ** 2).sum())
            v[i] = norm if v[i] is None else 0.5 * v[i] + 0.5 * norm
            m[i] = 0.9 * m[i] + g / (np.sqrt(v[i]) + 1e-8) + 0.01 * ref[i]
            ref[i] = ref[i] - 0.1 * m[i]
    np.testing.assert_allclose(w.numpy(), ref[0], atol=1e-5)
    np.testing.assert_allclose(b.numpy(), ref[1], atol=1e-5)


def test_sdk_names_resolve_without_a_path():
    registry = Registry()
    for kind, name in [("optimizer", "NovoGrad"), ("handler", "StatsHandler"),
                       ("aux_op", "NegLoss"), ("aux_op", "DiceMaskedOutput"),
                       ("model_loader", "CheckpointLoader"),
                       ("model_loader", "FrozenGraphModelLoader"), ("writer", "WriteNifti"),
                       ("pipeline", "SegmentationImagePipelineWithCache"),
                       ("pipeline", "SegmentationKerasImagePipeline"),
                       ("pipeline", "SegmentationKerasImagePipelineWithCache"),
                       ("pipeline", "ClassificationImagePipeline"),
                       ("inferer", "TFSimpleInferer"), ("lr_policy", "ReducePoly"),
                       ("lr_policy", "ReduceCosine"), ("transform", "MergeBatchDims"),
                       ("transform", "FastPosNegRatioCropROI"), ("transform", "SaveAsNifti")]:
        assert registry.resolve(kind, name) is not None, (kind, name)


RECORDER = '''
from clara_core import Handler


class Recorder(Handler):
    """Writes the events it sees and stops training after ``stop_after`` epochs."""

    def __init__(self, log_file, stop_after=2):
        self.log_file, self.stop_after = log_file, stop_after

    def _note(self, text):
        with open(self.log_file, "a") as f:
            f.write(text + "\\n")

    def started(self, state):
        self._note("started")

    def epoch_started(self, state):
        self._note(f"epoch_started {state.epoch}")

    def iteration_completed(self, state):
        self._note(f"iteration {state.epoch}.{state.step} {state.loss > 0}")

    def epoch_completed(self, state):
        self._note(f"epoch_completed {state.epoch} {sorted(state.record)}")
        state.stop = state.epoch >= self.stop_after

    def completed(self, state):
        self._note(f"completed {state.epoch} best={state.best_key_metric is not None}")
'''


def test_handlers_see_every_event_and_can_stop_training(tmp_path):
    root = make_train_mmar(tmp_path, epochs=4)
    (root / "custom").mkdir()
    (root / "custom" / "recorder.py").write_text(RECORDER)
    config = json.loads((root / "config" / "config_train.json").read_text())
    config["train"]["handlers"] = [
        {"name": "StatsHandler", "args": {"interval": 1}},
        {"path": "recorder.Recorder", "args": {"log_file": str(tmp_path / "events.txt")}}]
    (root / "config" / "config_train.json").write_text(json.dumps(config))
    out = run_clara("train", "-m", str(root), "--no-progress")
    assert out.returncode == 0, out.stdout + out.stderr
    events = (tmp_path / "events.txt").read_text().splitlines()
    steps = [e for e in events if e.startswith("iteration 1.")]
    assert events[0] == "started" and events[1] == "epoch_started 1" and steps
    assert all(e.endswith("True") for e in steps)
    completed = [e for e in events if e.startswith("epoch_completed")]
    assert len(completed) == 2 and "'mean_dice'" in completed[0] and "'loss'" in completed[0]
    assert events[-1] == "completed 2 best=True"
    assert [r["epoch"] for r in records(root / "models")] == [1, 2]  # stopped after 2 of 4
    assert "a handler stopped training after epoch 2" in out.stdout
    assert "stats: epoch 1/4 step 1 loss=" in out.stdout
    assert "stats: epoch 2/4 loss=" in out.stdout and "best mean_dice=" in out.stdout


def test_merge_batch_dims_in_batch_transforms(tmp_path):
    root = make_train_mmar(tmp_path, epochs=1)
    config = json.loads((root / "config" / "config_train.json").read_text())
    config["train"]["batch_transforms"] = [{"name": "MergeBatchDims",
                                            "args": {"fields": ["image", "label"]}}]
    (root / "config" / "config_train.json").write_text(json.dumps(config))
    out = run_clara("train", "-m", str(root), "--no-progress")
    assert out.returncode == 0, out.stdout + out.stderr


def _core_components():
    from clara_core.builtins.handlers import StatsHandler
    from clara_core.builtins.model_loaders import CheckpointLoader, FrozenGraphModelLoader
    from clara_core.builtins.novograd import NovoGrad
    from clara_core.data.classification import ClassificationImagePipeline
    from clara_core.data.segmentation import (
        SegmentationImagePipelineWithCache,
        SegmentationKerasImagePipeline,
    )

    return [NovoGrad(beta_1=0.9), StatsHandler(interval=5), CheckpointLoader("models", "final"),
            FrozenGraphModelLoader("models/model.trt.pb"),
            SegmentationImagePipelineWithCache("dataset.json", num_cache_objects=4),
            SegmentationKerasImagePipeline("dataset.json"),
            ClassificationImagePipeline("dataset.json", num_classes=3)]


from clara_core.testing import conformance_tests  # noqa: E402

test_core_sdk_components_conform = conformance_tests(_core_components())


PERFORMANCE_TRAIN = {  # the vocabulary of the SDK's Performance notebook configs
    "loss": {"name": "Dice"},
    "optimizer": {"name": "Adam"},
    "model": {"name": "Unet", "args": {"num_classes": 2, "nf_enc": "8,16", "nf_dec": "16,8,8",
                                       "use_group_norm": False, "use_batch_norm": True}},
    "pre_transforms": [
        {"name": "LoadNifti", "args": {"fields": ["image", "label"]}},
        {"name": "ConvertToChannelsFirst", "args": {"fields": ["image", "label"]}},
        {"name": "FastCropByPosNegRatio",
         "args": {"size": [16, 16, 16], "fields": "image", "label_field": "label", "pos": 1,
                  "neg": 1, "batch_size": 3, "batches_to_gen_at_once": 48}},
        {"name": "ScaleIntensityOscillation", "args": {"fields": "image", "magnitude": 0.1}}],
    "batch_transforms": [{"name": "MergeBatchDims", "args": {"fields": ["image", "label"]}}],
    "image_pipeline": {"name": "SegmentationImagePipelineWithCache", "args": {
        "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
        "output_crop_size": [16, 16, 16], "output_batch_size": 2,
        "batched_by_transforms": False, "num_cache_objects": 3, "replace_percent": 0}},
}


@pytest.mark.slow
def test_performance_notebook_vocabulary_trains_with_one_notice(tmp_path):
    root = make_train_mmar(tmp_path, epochs=1, train=PERFORMANCE_TRAIN)
    check = run_clara("config", "check", "-m", str(root))
    assert check.returncode == 0, check.stderr
    notices = [line for line in (check.stdout + check.stderr).splitlines() if "notice:" in line]
    assert len(notices) == 1 and "train.pre_transforms[2].args.batches_to_gen_at_once" in \
        notices[0], notices
    out = run_clara("train", "-m", str(root))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "batches_to_gen_at_once" in out.stdout  # the notice again at run start
    assert len(records(root / "models")) >= 1


def test_sdk_unet_norm_switches_and_crop_fields_keep_the_sdk_meaning():
    from clara_models.unet import Unet
    from clara_transforms_basic.crop import FastCropByPosNegRatio

    assert Unet(2, use_batch_norm=True, use_group_norm=False).normalization == "batch"
    assert Unet(2, use_batch_norm=False, use_group_norm=True).normalization == "group"
    assert Unet(2, use_batch_norm=False, use_group_norm=False).normalization == "none"
    assert Unet(2, normalization="instance").normalization == "instance"
    crop = FastCropByPosNegRatio(size=[8, 8], fields=["t1", "t2"], label_field="seg")
    assert crop.fields == ["t1", "t2", "seg"] and crop.label_field == "seg"
    assert FastCropByPosNegRatio(size=[8, 8]).fields == ["image", "label"]


def test_sdk_segresnet_arguments_keep_the_sdk_meaning():
    import keras
    from clara_models.segresnet import SegResnet

    from clara_core import BuildContext

    net = SegResnet(2, init_filters=4, blocks_down="1,1,1", blocks_up="1,1",
                    use_group_norm=False, dropout_prob=0.1, reg_weight=1e-4,
                    data_format="channels_last")
    assert (net.blocks_down, net.blocks_up, net.normalization, net.dropout) == (
        [1, 1, 1], [1, 1], "batch", 0.1)
    inputs = keras.Input((8, 8, 8, 1))
    model = keras.Model(inputs, net.get_predictions(inputs, True, BuildContext()))
    assert model.losses and float(sum(model.losses)) > 0  # the L2 penalty joins the loss
    assert SegResnet(2, use_group_norm=True).normalization == "group"
    try:
        SegResnet(2, blocks_down="1,x")
    except ValueError as exc:
        assert 'comma-separated string such as "1,2,2,4"' in str(exc)
    else:
        raise AssertionError("a malformed blocks_down was accepted")
