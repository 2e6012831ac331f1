"""The conformance kit catches what it claims to: broken losses and metrics fail it."""

from __future__ import annotations

import os

import pytest

from clara_core import Loss, Metric, MetricList, TransformContext
from clara_core.testing import (
    check_loss_contract,
    check_metric_contract,
    checks_for,
    default_metric_inputs,
)


class UnsmoothedRecallLoss(Loss):
    """1 - TP / (TP + FN) per class, without smoothing: 0/0 when a class is empty."""

    def __init__(self, data_format: str = "channels_first") -> None:
        self.data_format = data_format

    def get_loss(self, predictions, targets, build_ctx=None):
        import tensorflow as tf

        t = tf.one_hot(tf.cast(targets[:, 0], tf.int32), 3, axis=1)
        p = tf.cast(predictions, tf.float32)
        recall = tf.reduce_sum(p * t, axis=[2, 3, 4]) / tf.reduce_sum(t, axis=[2, 3, 4])
        return 1 - tf.reduce_mean(recall)


class HalfPrecisionLoss(Loss):
    def __init__(self, data_format: str = "channels_first") -> None:
        self.data_format = data_format

    def get_loss(self, predictions, targets, build_ctx=None):
        import tensorflow as tf

        return tf.reduce_mean(predictions)  # float16 in, float16 out


class PerVoxelLoss(Loss):
    def __init__(self, data_format: str = "channels_first") -> None:
        self.data_format = data_format

    def get_loss(self, predictions, targets, build_ctx=None):
        import tensorflow as tf

        return tf.cast(predictions, tf.float32)[:, 0]


class RaisingMetric(Metric):
    def __init__(self, name: str = "m") -> None:
        Metric.__init__(self, MetricList(name), field="model", label_field="label")

    def compute(self, transform_ctx: TransformContext):
        data = transform_ctx.get_image("label").get_data()
        if not data.any():
            raise ZeroDivisionError("empty label")
        return 1.0


def test_loss_checks_apply_to_losses_and_metric_checks_to_metrics():
    assert check_loss_contract in checks_for(HalfPrecisionLoss())
    assert check_metric_contract in checks_for(RaisingMetric())


@pytest.mark.parametrize("loss, message", [
    (UnsmoothedRecallLoss(), "is nan on 'empty_classes' inputs"),
    (HalfPrecisionLoss(), "is float16: cast predictions to float32"),
    (PerVoxelLoss(), "return a scalar"),
], ids=["nan-on-empty-class", "float16-result", "not-a-scalar"])
def test_loss_contract_catches(loss, message):
    with pytest.raises(AssertionError, match=message):
        check_loss_contract(loss)


def test_metric_contract_catches_a_metric_that_raises_on_empty_masks():
    with pytest.raises(AssertionError, match="raised on the 'both_empty' case"):
        check_metric_contract(RaisingMetric())
    assert set(default_metric_inputs(RaisingMetric())) >= {"both_empty", "single_voxels"}


# -- transform checks catch broken transforms --------------------------------------

import numpy as np  # noqa: E402

from clara_core import MultiFieldTransformer  # noqa: E402
from clara_core.testing import (  # noqa: E402
    check_bad_input_clear_error,
    check_geometry_consistent,
    check_probability_zero_is_identity,
    check_same_seed_same_output,
)


class GlobalRandomNoise(MultiFieldTransformer):
    """Draws from np.random instead of self.R: not reproducible from its seed."""

    def is_deterministic(self):
        return False

    def transform(self, ctx):
        for f in self.fields:
            img = ctx.get_image(f)
            noisy = img.get_data() + np.random.normal(size=img.get_data().shape)
            ctx.set_image(f, img.new_image(noisy, img.get_shape_format()))
        return ctx


class AlwaysFlip(MultiFieldTransformer):
    """Has a probability it ignores, and flips the data without updating the affine."""

    def __init__(self, fields, probability=0.5):
        MultiFieldTransformer.__init__(self, fields)
        self.probability = probability

    def is_deterministic(self):
        return False

    def transform(self, ctx):
        for f in self.fields:
            img = ctx.get_image(f)
            ctx.set_image(f, img.new_image(img.get_data()[:, ::-1], img.get_shape_format()))
        return ctx


class CropImageOnlyAffine(MultiFieldTransformer):
    """Crops both fields but shifts only the first field's affine."""

    def transform(self, ctx):
        for i, f in enumerate(self.fields):
            img = ctx.get_image(f)
            out = img.new_image(img.get_data()[:, 2:10, 2:10, 2:10], img.get_shape_format())
            if i == 0:
                affine = np.array(img.get_property("affine"), float)
                affine[:3, 3] += affine[:3, :3] @ [2, 2, 2]
                out.set_property("affine", affine)
            ctx.set_image(f, out)
        return ctx


class SilentLoader(MultiFieldTransformer):
    """Swallows the missing file's name."""

    def transform(self, ctx):
        for f in self.fields:
            try:
                open(ctx[f]).close()
            except OSError:
                raise ValueError("could not load") from None
        return ctx


def test_kit_catches_unseeded_randomness():
    with pytest.raises(AssertionError, match="self.R"):
        check_same_seed_same_output(GlobalRandomNoise(["image"]))


def test_kit_catches_ignored_probability():
    with pytest.raises(AssertionError, match="probability=0"):
        check_probability_zero_is_identity(AlwaysFlip(["image"]))


def test_kit_catches_misaligned_geometry():
    with pytest.raises(AssertionError, match="different affines"):
        check_geometry_consistent(CropImageOnlyAffine(["image", "label"]))


def test_kit_catches_an_error_without_the_file_name(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x")
    with pytest.raises(AssertionError, match="must name"):
        check_bad_input_clear_error(SilentLoader(["image"]),
                                    sample=lambda c: TransformContext({"image": str(path)}))


# -- the kinds the engine drives: pipelines, lr policies, handlers, inferers, aux ops,
# writers, loaders ------------------------------------------------------------------

from clara_core import (  # noqa: E402
    AuxOp,
    Handler,
    Inferer,
    LearningRatePolicy,
    Model,
    Transformer,
    Writer,
)
from clara_core.data.segmentation import SegmentationImagePipeline  # noqa: E402
from clara_core.testing import (  # noqa: E402
    check_aux_op_contract,
    check_handler_events,
    check_inferer_contract,
    check_loader_declaration,
    check_lr_policy_state_roundtrip,
    check_pipeline_same_seed_same_batches,
    check_writer_contract,
    conformance_tests,
)


def _core_builtins():
    from clara_core.builtins.handlers import StatsHandler
    from clara_core.builtins.inferers import TFScanWindowInferer, TFSimpleInferer
    from clara_core.builtins.lr_policies import (
        DecayOnStep,
        ReduceCosine,
        ReduceOnPlateau,
        ReducePoly,
    )

    return [ReducePoly(), DecayOnStep(decay_ratio=0.5, decay_freq=3), ReduceCosine(min_lr=1e-5),
            ReduceOnPlateau(factor=0.5, patience=2), ReduceOnPlateau(mode="min"),
            StatsHandler(interval=1), TFSimpleInferer(),
            TFScanWindowInferer(roi_size=[8, 8, 8], overlap=0.5, mode="gaussian"),
            TFScanWindowInferer(roi_size=[6, 6], tta_flips=[[0], [1]], sw_batch_size=2)]


test_core_builtins_conform = conformance_tests(_core_builtins())


def test_each_kind_gets_its_checks():
    from clara_core.builtins.inferers import TFSimpleInferer
    from clara_core.builtins.lr_policies import ReducePoly

    assert check_lr_policy_state_roundtrip in checks_for(ReducePoly())
    assert check_inferer_contract in checks_for(TFSimpleInferer())
    assert check_pipeline_same_seed_same_batches in checks_for(
        SegmentationImagePipeline("dataset.json"))


class UnseededOrderPipeline(SegmentationImagePipeline):
    """Shuffles the cases with NumPy's global generator, not from its seed."""

    def epoch_order(self, epoch):
        order = list(range(len(self.items())))
        np.random.shuffle(order)
        return order


class ForgetfulPlateau(LearningRatePolicy):
    """Halves the rate after two validations without improvement, but saves no state."""

    def __init__(self, patience: int = 2) -> None:
        self.patience, self._best, self._waited, self._scale = patience, None, 0, 1.0

    def update_metric(self, value):
        if self._best is None or value > self._best:
            self._best, self._waited = value, 0
        else:
            self._waited += 1
            if self._waited > self.patience:
                self._scale, self._waited = self._scale / 2, 0

    def get_learning_rate(self, epoch, base_lr, num_epochs):
        return base_lr * self._scale


class MetricReadingHandler(Handler):
    """Reads the validation metric as if validation ran every epoch."""

    def epoch_completed(self, state):
        state.log(f"dice {state.metrics['mean_dice']}")


class MeddlingHandler(Handler):
    """Counts epochs in the run state itself."""

    def epoch_completed(self, state):
        state.epochs_done += 1


class UnweightedWindows(Inferer):
    """Adds the windows' predictions where they overlap instead of averaging them."""

    def __init__(self, roi_size=(4, 4, 4)):
        self.roi_size = list(roi_size)

    def infer(self, predict, inputs, data_format):
        x = np.asarray(inputs)
        first = data_format == "channels_first"
        return np.asarray(predict(x)) * (1.0 if first else 1.5)


class NumpyAuxOp(AuxOp):
    def __init__(self, tag: str = "mean_pred") -> None:
        AuxOp.__init__(self, tag)

    def get_value(self, build_ctx):
        return float(np.mean(build_ctx["predictions"].numpy()))


class StrayWriter(Writer):
    """Writes next to the working folder, not under write_path."""

    output_args = ("write_path",)
    file_suffixes = (".txt",)

    def __init__(self, field: str = "model", write_path: str = "eval", dtype=None,
                 suffix=None) -> None:
        self.field, self.write_path = field, write_path

    def write(self, transform_ctx):
        path = os.path.join(os.path.dirname(self.write_path), "stray_case_01.txt")
        with open(path, "w") as f:
            f.write("x")
        return [path]


class BadlyDeclaredLoader(Transformer):
    is_loader = True
    file_suffixes = ("NII",)


class FieldlessLoader(Transformer):
    """Declares a format but its constructor takes neither fields nor dtype."""

    is_loader = True
    file_suffixes = (".xyz",)

    def __init__(self, path_field: str = "image") -> None:
        self.path_field = path_field



def test_kit_catches_a_pipeline_that_ignores_its_seed():
    with pytest.raises(AssertionError, match="different batches"):
        check_pipeline_same_seed_same_batches(UnseededOrderPipeline("dataset.json"))


def test_kit_catches_an_lr_policy_that_loses_its_state_on_resume():
    with pytest.raises(AssertionError, match="set_state"):
        check_lr_policy_state_roundtrip(ForgetfulPlateau())


@pytest.mark.parametrize("handler, message", [
    (MetricReadingHandler(), "KeyError: 'mean_dice' \\(epoch 1, no validation\\)"),
    (MeddlingHandler(), "changed the run's state"),
], ids=["metric-every-epoch", "changes-state"])
def test_kit_catches_handlers(handler, message):
    with pytest.raises(AssertionError, match=message):
        check_handler_events(handler)


def test_kit_catches_an_inferer_whose_windows_do_not_add_up():
    with pytest.raises(AssertionError, match="twice the image"):
        check_inferer_contract(UnweightedWindows())


def test_kit_catches_an_aux_op_that_needs_eager_tensors():
    with pytest.raises(AssertionError, match="inside tf.function"):
        check_aux_op_contract(NumpyAuxOp())


def test_kit_catches_a_writer_that_writes_outside_its_folder():
    with pytest.raises(AssertionError, match="outside its output folder"):
        check_writer_contract(StrayWriter())


@pytest.mark.parametrize("loader, message", [
    (BadlyDeclaredLoader(), "lower-case file ending"),
    (FieldlessLoader(), "for_field\\('image', None\\) raised TypeError"),
], ids=["suffix-form", "not-buildable"])
def test_kit_catches_loader_declarations(loader, message):
    with pytest.raises(AssertionError, match=message):
        check_loader_declaration(loader)


class Net(Model):
    def __init__(self, num_classes: int, data_format: str = "channels_first") -> None:
        self.classes = num_classes


class Positional(Model):
    """Keeps its settings in a list: its constructor is not its config."""

    def __init__(self, *settings) -> None:
        self.settings = settings


def test_model_declares_classes_and_format_from_its_constructor():
    net = Net(3)
    assert net.get_num_classes() == 3 and net.get_data_format() == "channels_first"
    twin = net.with_data_format("channels_last")
    assert isinstance(twin, Net) and twin.get_data_format() == "channels_last"
    assert twin.get_num_classes() == 3 and net.with_data_format("channels_first") is net
    odd = Positional(3, "channels_first")
    assert odd.get_num_classes() is None and odd.get_data_format() is None
    assert odd.with_data_format("channels_last") is None
