"""The files of a new plugin distribution; ``$dist``, ``$pkg`` and ``$title`` are filled in.

Each kind has one example component, written the way the conformance kit and
the engine expect, so the generated tests pass right away.
"""

from __future__ import annotations

PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "$title: components for Clara BYOC."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["clara-core"]

[project.optional-dependencies]
test = ["pytest>=8"]

[tool.setuptools.packages.find]
where = ["src"]
$entry_points'''

INIT = '''"""$title: components for Clara BYOC, registered by entry points (see pyproject.toml)."""
'''

README = '''# $title

Components for [Clara BYOC](https://example.invalid/clara-byoc), found by name once
installed:

```bash
pip install .
clara components list          # shows: $names
pytest                         # the conformance kit, one test per component and check
```

Use them in `config/config_train.json` by name, no `"path"` needed:

```json
$example
```

If two installed distributions give the same name, write `"$dist:NAME"`.
Publish with `python -m build` and `twine upload dist/*`.
'''

TESTS = '''"""The conformance kit: one test per (component, check)."""

from clara_core.testing import conformance_tests
$imports

test_conformance = conformance_tests([$instances])
'''

#: ``--kinds events``: a plugin that listens to runs (docs/byoc/08-run-events.md)
EVENTS = {
    "group": "clara.plugins", "module": "events",
    "code": '''"""$title's run events: a line per epoch, and the run's end.

Each hook takes only the arguments it names (pluggy's rule); the arguments are
listed in clara_core.hookspecs. A hook that raises stops the run as Ctrl-C does, so
catch what must not stop training.
"""

from clara_core.hookspecs import hookimpl


@hookimpl
def clara_epoch_ended(run, epoch, metrics):
    run.log(f"$dist: epoch {epoch} loss {metrics['loss']:.4f}")


@hookimpl
def clara_train_ended(run, result):
    run.log(f"$dist: {len(result.losses)} epochs in {result.seconds:.1f} s")
''',
    "test": '''

def test_events_plugin_matches_the_hookspecs():
    from clara_core.testing import check_events_plugin

    from $pkg import events

    check_events_plugin(events)
''',
}

COMPONENTS: dict[str, dict[str, str]] = {
    "loss": {
        "group": "clara.losses", "module": "losses", "name": "BrierLoss",
        "instance": "BrierLoss()",
        "config": '"loss": {"name": "BrierLoss", "args": {"data_format": "channels_last"}}',
        "code": '''"""``BrierLoss``: mean squared error between probabilities and one-hot targets."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Loss
from clara_core.arguments import check_data_format


class BrierLoss(Loss):
    """Mean over voxels and classes of ``(p_c - t_c)^2`` (the Brier score).

    Args:
        data_format: ``channels_first`` or ``channels_last``.
    """

    def __init__(self, data_format: str = "channels_first") -> None:
        Loss.__init__(self)
        check_data_format(type(self).__name__, data_format)
        self.data_format = data_format

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        axis = 1 if self.data_format == "channels_first" else -1
        p = tf.cast(predictions, tf.float32)
        labels = tf.cast(tf.squeeze(tf.convert_to_tensor(targets), axis=axis), tf.int32)
        t = tf.one_hot(labels, depth=p.shape[axis], axis=axis, dtype=tf.float32)
        return tf.reduce_mean(tf.square(p - t))
''',
    },
    "transform": {
        "group": "clara.transforms", "module": "transforms", "name": "RandomIntensityScale",
        "instance": 'RandomIntensityScale(fields=["image"])',
        "config": '{"name": "RandomIntensityScale", "args": {"fields": ["image"]}}',
        "code": '''"""``RandomIntensityScale``: multiply images by a random factor (augmentation)."""

from __future__ import annotations

from collections.abc import Sequence

from clara_core import MultiFieldTransformer, RandomTransform, TransformContext


class RandomIntensityScale(MultiFieldTransformer, RandomTransform):
    """With ``probability``, multiply each field by one factor drawn from ``[low, high]``.

    Random: ``RandomTransform`` checks ``probability``, marks the transform random
    (never cached) and draws the gate; every draw comes from ``self.R``, which the
    pipeline seeds per case and epoch, so runs with the same seed augment identically
    whatever the worker count.
    """

    def __init__(self, fields: str | Sequence[str], low: float = 0.9,
                 high: float = 1.1, probability: float = 1.0) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.set_probability(probability)
        if not low <= high:
            raise ValueError(f"Invalid value for argument `high` of {type(self).__name__}: "
                             f"expected a number >= low ({low}), received {high!r}.")
        self.low, self.high = low, high

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        if not self.happens():
            return transform_ctx
        factor = self.R.uniform(self.low, self.high)
        for field in self.fields:
            image = transform_ctx.get_image(field)
            transform_ctx.set_image(field, image.new_image(image.get_data() * factor,
                                                           image.get_shape_format()))
        return transform_ctx
''',
    },
    "model": {
        "group": "clara.models", "module": "models", "name": "TinyNet",
        "instance": 'TinyNet(num_classes=2, data_format="channels_last")',
        "config": '"model": {"name": "TinyNet", "args": {"num_classes": 2, '
                  '"data_format": "channels_last"}}',
        "code": '''"""``TinyNet``: two convolutions and a 1x1 head, 2D or 3D (a starting point)."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Model


class TinyNet(Model):
    """conv-ReLU, conv-ReLU, 1x1 conv to ``num_classes``, softmax over channels.

    Args:
        num_classes: output channels.
        filters: channels of the two convolutions.
        data_format: ``channels_first`` or ``channels_last``.
    """

    def __init__(self, num_classes: int, filters: int = 8,
                 data_format: str = "channels_first") -> None:
        Model.__init__(self)
        self.num_classes, self.filters, self.data_format = num_classes, filters, data_format

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        from keras import layers

        conv = layers.Conv3D if len(inputs.shape) == 5 else layers.Conv2D
        axis = 1 if self.data_format == "channels_first" else -1
        x = inputs
        for _ in range(2):
            x = conv(self.filters, 3, padding="same", activation="relu",
                     data_format=self.data_format)(x)
        x = conv(self.num_classes, 1, data_format=self.data_format, dtype="float32")(x)
        return layers.Softmax(axis=axis, dtype="float32")(x)
''',
    },
    "metric": {
        "group": "clara.metrics", "module": "metrics", "name": "ComputeVolumeRatio",
        "instance": 'ComputeVolumeRatio("volume_ratio")',
        "config": '{"name": "ComputeVolumeRatio", "args": {"name": "volume_ratio"}}',
        "code": '''"""``ComputeVolumeRatio``: predicted foreground volume over the label's, per case."""

from __future__ import annotations

import numpy as np

from clara_core import Metric, MetricList, TransformContext


class ComputeVolumeRatio(Metric):
    """Mean over cases of (predicted foreground voxels) / (label foreground voxels);
    a case with an empty label gets ``invalid_value`` and is left out of the mean.

    Args:
        name: the metric's name in logs and report files.
        field: the prediction (probabilities, channels first).
        label_field: the label map.
    """

    def __init__(self, name: str, field: str = "model", label_field: str = "label",
                 invalid_value: float = float("nan"), report_path: str | None = None,
                 is_key_metric: bool = False) -> None:
        Metric.__init__(self, MetricList(name, invalid_value, report_path), field=field,
                        label_field=label_field, is_key_metric=is_key_metric)

    def compute(self, transform_ctx: TransformContext) -> float | None:
        pred = transform_ctx.get_image(self.field).get_data()
        label = transform_ctx.get_image(self.label_field or "label").get_data()
        foreground = (pred.argmax(axis=0) > 0) if pred.shape[0] > 1 else pred[0] > 0.5
        truth = np.count_nonzero(label > 0)
        return float(np.count_nonzero(foreground) / truth) if truth else None
''',
    },
}
