"""The seed's own example code, written the seed's way, works against clara_core."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from clara_core import (
    BuildContext,
    ImageProperty,
    Loss,
    MedicalImage,
    Metric,
    MetricList,
    Model,
    MultiFieldTransformer,
    ShapeFormat,
    TransformContext,
)


class MyAddRandomConstant(MultiFieldTransformer):
    def __init__(self, fields, magnitude, dtype=np.float32):
        MultiFieldTransformer.__init__(self, fields)
        self.dtype = dtype
        self.magnitude = magnitude

    def transform(self, transform_ctx):
        for field in self.fields:
            offset = (np.random.rand() * 2.0 - 1.0) * self.magnitude
            img = transform_ctx.get_image(field)
            result = img.get_data() + offset
            transform_ctx.set_image(field, img.new_image(result, img.get_shape_format()))
        return transform_ctx

    def is_deterministic(self):
        return False


class SampleMetricAverage(MetricList):
    def __init__(self, name, invalid_value=float("nan"), report_path=None):
        MetricList.__init__(self, name, invalid_value=invalid_value, report_path=report_path)

    def get(self):
        if self._list is None or self._list.size == 0:
            return 0
        return np.mean(self._list)


class SampleComputeAverage(Metric):
    def __init__(self, name, field, invalid_value=float("nan"), report_path=None):
        m = SampleMetricAverage(name, invalid_value, report_path)
        Metric.__init__(self, m, field=field, label_field=None, do_summary=True, do_print=True,
                        is_key_metric=False)


class MyLoss(Loss):
    def __init__(self, data_format="channels_first", smooth=1e-5):
        Loss.__init__(self)
        self.data_format = data_format
        self.smooth = smooth

    def get_loss(self, predictions, targets, build_ctx=None):
        return float(np.mean((predictions - targets) ** 2))


def test_seed_transform_keeps_properties_and_config():
    t = MyAddRandomConstant(fields=["image", "label"], magnitude=5)
    ctx = TransformContext({"image": "a.nii"})
    img = MedicalImage(np.zeros((2, 3, 4), np.float32), ShapeFormat.DHW)
    img.set_property(ImageProperty.FILENAME, "a.nii")
    ctx.set_image("image", img)
    ctx.set_image("label", img)
    out = t.transform(ctx).get_image("image")
    assert out.get_property(ImageProperty.FILENAME) == "a.nii"
    assert np.all(np.abs(out.get_data()) <= 5)
    assert t.get_config() == {"fields": ["image", "label"], "magnitude": 5, "dtype": "float32"}
    assert not t.is_deterministic()


def test_seed_metric_reads_list_size():
    m = SampleComputeAverage("metric_mean_value_1", "accuracy")
    assert m.get() == 0
    for v in (0.5, 1.0):
        m.update(TransformContext({"accuracy": v}))
    assert m.get() == 0.75 and m.get_name() == "metric_mean_value_1"
    assert m.get_config()["field"] == "accuracy"


def test_loss_build_uses_context():
    ctx = BuildContext({BuildContext.KEY_PREDICTIONS: np.ones(3),
                        BuildContext.KEY_LABEL_INPUT: np.zeros(3)})
    assert MyLoss().build(ctx) == 1.0
    assert MyLoss(smooth=0.1).get_config() == {"data_format": "channels_first", "smooth": 0.1}


def test_model_defaults_match_seed():
    m = Model()
    assert m.get_loss() == 0 and m.get_update_ops() == []
    assert BuildContext.KEY_DATA_PROP == "data_property"


def test_importing_clara_core_does_not_import_tensorflow_or_numpy():
    code = ("import sys, clara_core; clara_core.ShapeFormat('CDHW'); clara_core.BuildContext; "
            "clara_core.Loss; print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_components_list_does_not_import_tensorflow():
    code = ("import sys; from clara_core.cli import main; main(['components', 'list']); "
            "print('TF', 'tensorflow' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("TF False False")


# -- contracts the engine reads, declared on the base classes --------------------------

import pytest  # noqa: E402

from clara_core import Inferer, Registry, Writer  # noqa: E402
from clara_core.errors import RegistryError  # noqa: E402
from clara_core.registry.discovery import Entry  # noqa: E402
from clara_core.registry.formats import Candidate, best_candidate  # noqa: E402


class SeedNetwork(Model):
    """The seed's way: settings as attributes, no call to Model.__init__."""

    def __init__(self, num_classes, data_format="channels_first", factor=32):
        self.num_classes, self.data_format, self.factor = num_classes, data_format, factor


def test_model_contract_defaults_come_from_the_constructor():
    net = SeedNetwork(4, factor=8)
    assert (net.get_num_classes(), net.get_data_format()) == (4, "channels_first")
    twin = net.with_data_format("channels_last")
    assert twin.get_config() == {"num_classes": 4, "data_format": "channels_last", "factor": 8}
    assert Model().get_num_classes() is None and Model().get_data_format() is None
    assert MyLoss().get_data_format() == "channels_first"


def test_inferer_and_writer_defaults():
    assert Inferer().get_roi_size() is None
    assert Writer().file_name_for("case") is None and Writer.file_suffixes == ()


def test_registry_picks_loaders_and_writers_by_format():
    registry = Registry()
    names = {p: registry.loader_for(p).__name__
             for p in ("/d/a.nii.gz", "/d/B.NII", "/d/c.mha", "/d/d.nrrd", "/d/e.png",
                       "/d/f.TIFF")}
    assert names == {"/d/a.nii.gz": "LoadNifti", "/d/B.NII": "LoadNifti", "/d/c.mha": "LoadImage",
                     "/d/d.nrrd": "LoadImage", "/d/e.png": "LoadPng", "/d/f.TIFF": "LoadTiff"}
    assert registry.loader_for("/d/series", folder=True).__name__ == "LoadDicomSeries"
    assert registry.writer_for(".nii.gz").__name__ == "WriteNifti"
    loader = registry.loader_for("x.nii").for_field("image", "float16")
    assert loader.get_config()["fields"] == "image" and loader.get_config()["dtype"] == "float16"
    writer = registry.writer_for(".nii.gz").for_field("model", "/out", "uint8", "_seg")
    assert writer.file_name_for("case_07") == "case_07_seg.nii.gz"
    with pytest.raises(RegistryError, match=r"No installed loader handles '/d/f.npy'.*\.nii\.gz"):
        registry.loader_for("/d/f.npy")


def test_two_loaders_for_one_format_are_named():
    def candidate(dist):
        return Candidate(Entry("transform", "LoadX", "m:LoadX", dist, "1", "entry point"),
                         type, ".nii.gz")

    with pytest.raises(RegistryError, match=r"LoadX \(pack-a\), LoadX \(pack-b\)"):
        best_candidate([candidate("pack-a"), candidate("pack-b")], "loader", "a.nii.gz", [])
