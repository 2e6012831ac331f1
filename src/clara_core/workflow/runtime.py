"""What a train config's settings choose about TensorFlow: seeds, determinism and the
mixed-precision type (the strategy: :mod:`clara_core.workflow.placement`).

Value rules live in :mod:`clara_core.config.settings` (checked by ``clara config
check``); what is left here depends on the machine (is there a GPU?).
"""

from __future__ import annotations

from clara_core.config.settings import TrainSettings
from clara_core.errors import ClaraError


def amp_dtype(settings: TrainSettings, has_gpu: bool) -> str | None:
    """The mixed-precision compute type, or None without ``use_amp``.

    >>> amp_dtype(TrainSettings(use_amp=True), has_gpu=False)
    'bfloat16'
    >>> amp_dtype(TrainSettings(use_amp=True, amp_dtype="float16"), has_gpu=True)
    'float16'
    """
    if not settings.use_amp:
        return None
    dtype = settings.amp_dtype or ("float16" if has_gpu else "bfloat16")
    if dtype == "float16" and not has_gpu:
        raise ClaraError('amp_dtype "float16" needs a GPU: TensorFlow has no float16 '
                         "kernels for 3D pooling on CPUs. Use \"bfloat16\" (or leave "
                         "amp_dtype out to choose by hardware).")
    return dtype


def seed_everything(settings: TrainSettings) -> None:
    """Seed Python, NumPy and Keras; with ``determinism``, deterministic TensorFlow ops;
    TensorFloat-32 as ``use_tf32`` says."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(settings.seed)
    if settings.determinism is not None:
        tf.config.experimental.enable_op_determinism()
    tf.config.experimental.enable_tensor_float_32_execution(settings.use_tf32)


def has_gpu() -> bool:
    """Whether TensorFlow sees a GPU (asked without starting TensorFlow's runtime, which
    a multi-worker strategy must configure first)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


__all__ = ["amp_dtype", "has_gpu", "seed_everything"]
