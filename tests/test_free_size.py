"""Model files for any input size: a fully convolutional network trained on 16^3 crops
with the SDK's ``dynamic_input_shape: false`` is saved with free spatial axes, so
``clara validate`` and ``clara infer`` take windows of other sizes; a size the network
cannot take is a message naming it, the divisor and the sizes that fit; an older
model file with a fixed size comes back free; a network that needs a fixed size
(a VAE branch's Dense layers) keeps it and says why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import pytest
from conftest import run_clara
from train_mmar import make_train_mmar

from clara_core import BuildContext, main_output
from clara_core.errors import ClaraError
from clara_core.mmar.model_shapes import free_spatial_axes, input_sizes, rebuilt

VALIDATION = {
    "model_loader": {"name": "CheckpointLoader"},
    "pre_transforms": [{"name": "LoadNifti", "args": {"fields": ["image", "label"]}},
                       {"name": "ConvertToChannelsFirst", "args": {"fields": ["image", "label"]}}],
    "post_transforms": [{"name": "ArgmaxAcrossChannels", "args": {"fields": "model"}}],
    "val_metrics": [{"name": "ComputeAverageDice", "args": {
        "name": "mean_dice", "field": "model", "label_field": "label", "is_key_metric": True}}],
}


@pytest.fixture(scope="module")
def fixed_crop_mmar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One epoch of a depth-2 Unet (sizes divisible by 4) on 16^3 crops, with the
    Performance configs' ``dynamic_input_shape: false``."""
    root = make_train_mmar(tmp_path_factory.mktemp("free") / "mmar", cases=3, epochs=1,
                           dynamic_input_shape=False)
    out = run_clara("train", "-m", str(root), "--no-progress")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "keeps free spatial axes" in out.stdout + out.stderr
    return root


def validation_config(root: Path, roi: int) -> None:
    config = dict(VALIDATION, inferer={"name": "TFScanWindowInferer",
                                       "args": {"roi_size": [roi] * 3}})
    (root / "config" / "config_validation.json").write_text(json.dumps(config))


def test_the_model_file_keeps_free_spatial_axes(fixed_crop_mmar):
    model = keras.models.load_model(fixed_crop_mmar / "models" / "model_final.keras",
                                    compile=False)
    assert tuple(model.inputs[0].shape) == (None, None, None, None, 1)


def test_validate_and_infer_with_a_window_larger_than_the_crop(fixed_crop_mmar, tmp_path):
    validation_config(fixed_crop_mmar, 32)
    out = run_clara("validate", "-m", str(fixed_crop_mmar))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "mean_dice" in out.stdout
    out = run_clara("infer", "-m", str(fixed_crop_mmar), "-i",
                    str(fixed_crop_mmar / "data" / "image0.nii.gz"), "-o", str(tmp_path),
                    "--roi-size", "24", "24", "24", "--no-progress")
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "image0_seg.nii.gz").exists()


def test_a_size_the_network_cannot_take_is_a_message(fixed_crop_mmar, tmp_path):
    validation_config(fixed_crop_mmar, 18)
    out = run_clara("validate", "-m", str(fixed_crop_mmar))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "18x18x18 does not fit the network" in out.stderr
    assert "divisible by 4x4x4" in out.stderr and "16x16x16 or 20x20x20" in out.stderr
    assert "Traceback" not in out.stderr
    out = run_clara("infer", "-m", str(fixed_crop_mmar), "-i",
                    str(fixed_crop_mmar / "data" / "image0.nii.gz"), "-o", str(tmp_path),
                    "--roi-size", "30", "30", "30")
    assert out.returncode == 2 and "--roi-size" in out.stderr, out.stderr
    assert "30x30x30 does not fit" in out.stderr and "Traceback" not in out.stderr


def test_training_refuses_a_validation_window_before_the_first_step(tmp_path):
    root = make_train_mmar(tmp_path / "mmar", cases=3, epochs=1)
    out = run_clara("train", "-m", str(root), "--no-progress",
                    "--set", "validate.inferer.args.roi_size=[18,18,18]")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "validation window 18x18x18" in out.stderr and "roi_size" in out.stderr
    assert not (root / "models" / "train_state.json").exists()


def test_training_refuses_a_crop_the_network_cannot_divide_before_the_first_step(tmp_path):
    root = make_train_mmar(tmp_path / "mmar", cases=3, epochs=1)
    path = root / "config" / "config_train.json"
    config = json.loads(path.read_text())
    [crop] = [t for t in config["train"]["pre_transforms"] if "size" in t.get("args", {})]
    crop["args"]["size"] = [15, 15, 15]
    path.write_text(json.dumps(config))
    out = run_clara("train", "-m", str(root), "--no-progress")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "training crop 15x15x15 does not fit the network" in out.stderr
    assert "use 12x12x12 or 16x16x16" in out.stderr and "Traceback" not in out.stderr
    assert not (root / "models" / "train_state.json").exists()


def test_an_older_fixed_size_model_file_comes_back_free(fixed_crop_mmar, tmp_path):
    copy = tmp_path / "mmar"
    shutil.copytree(fixed_crop_mmar, copy)
    path = copy / "models" / "model_final.keras"
    free = keras.models.load_model(path, compile=False)
    rebuilt(free, (16, 16, 16)).save(path)  # as clara wrote it before: the crop size
    assert keras.models.load_model(path, compile=False).inputs[0].shape[1] == 16
    out = run_clara("infer", "-m", str(copy), "-i", str(copy / "data" / "image0.nii.gz"),
                    "-o", str(tmp_path / "segs"), "--roi-size", "32", "32", "32")
    assert out.returncode == 0, out.stdout + out.stderr


def vae_model(shape):
    from clara_models.segresnet import SegResnet

    inputs = keras.Input(shape)
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: False})
    net = SegResnet(num_classes=2, init_filters=4, blocks_down=(1, 1, 1), blocks_up=(1, 1),
                    use_vae=True, vae_nz=8, data_format="channels_last")
    return keras.Model(inputs, main_output(net.build(ctx)))


def test_a_network_that_needs_its_size_keeps_it_and_says_why():
    model, why = free_spatial_axes(vae_model((16, 16, 16, 1)))
    assert tuple(model.inputs[0].shape)[1:4] == (16, 16, 16)
    assert why and "dense" in why.lower()
    sizes = input_sizes(model)
    assert sizes.problem((16, 16, 16)) is None
    with pytest.raises(ClaraError, match=r"64x64x64 does not fit the model: its input is "
                                         r"fixed to 16x16x16 \(the network needs a fixed size"):
        sizes.check((64, 64, 64), "the window")


def test_half_precision_inference_agrees_with_float32(fixed_crop_mmar, tmp_path):
    """``clara infer --amp`` (bfloat16 on this CPU): the same segmentation but for a few
    voxels where the two classes are close (benchmarks/infer_amp.py measures it)."""
    import nibabel as nib
    import numpy as np

    segs = {}
    for name, extra in (("float32", []), ("amp", ["--amp"])):
        out = run_clara("infer", "-m", str(fixed_crop_mmar), "-i",
                        str(fixed_crop_mmar / "data" / "image0.nii.gz"), "-o",
                        str(tmp_path / name), "--no-progress", *extra)
        assert out.returncode == 0, out.stdout + out.stderr
        segs[name] = np.asarray(nib.load(tmp_path / name / "image0_seg.nii.gz").dataobj)
    assert segs["amp"].shape == segs["float32"].shape
    assert np.mean(segs["amp"] == segs["float32"]) > 0.95


def _classifier(name: str, dims: int):
    import clara_models.classification as catalog

    inputs = keras.Input((None,) * dims + (1,))
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: True})
    network = getattr(catalog, name)(2, data_format="channels_last")
    return keras.Model(inputs, network.build(ctx))


def test_a_classifier_takes_any_size_its_down_sampling_leaves_a_voxel_of():
    sizes = input_sizes(_classifier("DenseNet121", 2))
    assert sizes.minimum == (32, 32) and sizes.problem((40, 33)) is None  # no divisor
    with pytest.raises(ClaraError, match="the training crop 32x16 is too small for the "
                                         "network: .* use at least 32x32"):
        sizes.check((32, 16), "the training crop")


def test_a_classifier_with_same_padding_takes_a_crop_smaller_than_its_down_sampling():
    # ResNet18 halves 5 times with `same` padding: a 16^3 crop ends in one voxel
    sizes = input_sizes(_classifier("ResNet18", 3))
    assert sizes.minimum is None and sizes.problem((16, 16, 16)) is None
