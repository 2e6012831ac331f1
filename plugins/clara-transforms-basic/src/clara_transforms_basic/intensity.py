"""Intensity transforms: windowing, normalisation, contrast, noise, smoothing, bias field.

Deterministic ones derive from :class:`IntensityTransform` (``apply(data)``); random
ones from :class:`RandomIntensityTransform`, which draws its parameters once per
case (``draw``), with ``probability``, and applies the same draw to every field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core import MultiFieldTransformer, RandomTransform, TransformContext
from clara_core.arguments import check_argument
from clara_transforms_basic.per_channel import check_channels, on_channels, per_channel


def _float(data: np.ndarray) -> np.ndarray:
    return data if np.issubdtype(data.dtype, np.floating) else data.astype(np.float32)


class IntensityTransform(MultiFieldTransformer):
    """Replaces each field's array by ``apply(array)`` (a new array: inputs may be cached)."""

    def apply(self, data: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            image = transform_ctx.get_image(field)
            transform_ctx.set_image(field, image.new_image(self.apply(image.get_data()),
                                                           image.get_shape_format()))
        return transform_ctx


class RandomIntensityTransform(MultiFieldTransformer, RandomTransform):
    """With ``probability``, one ``draw()`` per case applied to every field."""

    def __init__(self, fields: str | Sequence[str], probability: float = 0.5) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.set_probability(probability)

    def draw(self, shape: tuple[int, ...]) -> Any:
        raise NotImplementedError

    def apply(self, data: np.ndarray, params: Any) -> np.ndarray:
        raise NotImplementedError

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        if not self.happens():
            return transform_ctx
        params = self.draw(transform_ctx.get_image(self.fields[0]).get_data().shape)
        for field in self.fields:
            image = transform_ctx.get_image(field)
            data = image.get_data()
            out = self.apply(data, params).astype(_float(data).dtype, copy=False)
            transform_ctx.set_image(field, image.new_image(out, image.get_shape_format()))
        return transform_ctx


class ScaleIntensityRange(IntensityTransform):
    """Map ``[a_min, a_max]`` linearly to ``[b_min, b_max]``, optionally clipping;
    ``channels`` (indices along the channel axis) scales those channels only (a CT
    channel beside MR ones).

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.array([[-100.0, 50.0, 300.0]]), "HW"))
    >>> t = ScaleIntensityRange("image", a_min=0, a_max=100, b_min=0.0, b_max=1.0, clip=True)
    >>> t.transform(ctx).get_image("image").get_data().tolist()
    [[0.0, 0.5, 1.0]]
    """

    def __init__(self, fields: str | Sequence[str], a_min: float, a_max: float,
                 b_min: float = 0.0, b_max: float = 1.0, clip: bool = False,
                 dtype: str = "float32", channels: Sequence[int] | None = None) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        check_channels(type(self).__name__, channels)
        self.channels = channels
        if a_max == a_min:
            raise ValueError(f"Invalid value for argument `a_max` of {type(self).__name__}: "
                             f"expected a value different from a_min ({a_min}), received "
                             f"{a_max!r}.")
        self.a_min, self.a_max, self.b_min, self.b_max = a_min, a_max, b_min, b_max
        self.clip, self.dtype = clip, dtype

    def apply(self, data: np.ndarray) -> np.ndarray:
        scale = (self.b_max - self.b_min) / (self.a_max - self.a_min)
        out = data.astype(self.dtype)  # the one copy; the rest in place
        out -= self.a_min
        out *= scale
        out += self.b_min
        if self.clip:
            np.clip(out, *sorted((self.b_min, self.b_max)), out=out)
        return out

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        if self.channels is None:
            return IntensityTransform.transform(self, transform_ctx)
        for field in self.fields:
            image = transform_ctx.get_image(field)
            data = on_channels(type(self).__name__, field, image, self.channels, self.apply)
            transform_ctx.set_image(field, image.new_image(data, image.get_shape_format()))
        return transform_ctx


class ScaleShiftIntensity(IntensityTransform):
    """``data * scale + shift``.

    >>> ScaleShiftIntensity("image", scale=2.0, shift=1.0).apply(np.array([0.0, 1.0])).tolist()
    [1.0, 3.0]
    """

    def __init__(self, fields: str | Sequence[str], scale: float = 1.0,
                 shift: float = 0.0) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.scale, self.shift = scale, shift

    def apply(self, data: np.ndarray) -> np.ndarray:
        return _float(data) * self.scale + self.shift


class NormalizeNonzeroIntensities(MultiFieldTransformer):
    """Z-score the non-zero voxels of each channel (zeros, the background of skull-stripped
    MRI, stay zero); ``channels`` (indices along the channel axis) those channels only.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.array([[0.0, 1.0, 3.0]]), "HW"))
    >>> NormalizeNonzeroIntensities("image").transform(ctx).get_image("image").get_data()
    array([[ 0., -1.,  1.]])
    """

    def __init__(self, fields: str | Sequence[str],
                 channels: Sequence[int] | None = None) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        check_channels(type(self).__name__, channels)
        self.channels = channels

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        def norm(c: np.ndarray) -> np.ndarray:
            out = _float(c).copy()
            mask = c != 0
            if mask.any():
                values = out[mask]
                out[mask] = (values - values.mean()) / max(float(values.std()), 1e-8)
            return out

        for field in self.fields:
            image = transform_ctx.get_image(field)
            fmt = image.get_shape_format()
            data = per_channel(image.get_data(), fmt.get_channel_axis(), norm) \
                if self.channels is None else \
                on_channels(type(self).__name__, field, image, self.channels, norm)
            transform_ctx.set_image(field, image.new_image(data, fmt))
        return transform_ctx


class CenterData(IntensityTransform):
    """Subtract the mean and divide by the standard deviation (the whole image).

    >>> CenterData("image").apply(np.array([1.0, 3.0])).tolist()
    [-1.0, 1.0]
    """

    def apply(self, data: np.ndarray) -> np.ndarray:
        data = _float(data)
        return (data - data.mean()) / max(float(data.std()), 1e-8)  # type: ignore[no-any-return]


class AdjustContrast(IntensityTransform):
    """Gamma contrast: rescale to [0, 1], raise to ``gamma``, scale back to the old range.

    >>> AdjustContrast("image", gamma=2.0).apply(np.array([0.0, 5.0, 10.0])).tolist()
    [0.0, 2.5, 10.0]
    """

    def __init__(self, fields: str | Sequence[str], gamma: float = 1.0) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        if gamma <= 0:
            raise ValueError(f"Invalid value for argument `gamma` of {type(self).__name__}: expected a "
                             f"positive number, received {gamma!r}.")
        self.gamma = gamma

    def apply(self, data: np.ndarray) -> np.ndarray:
        data = _float(data)
        lo, hi = float(data.min()), float(data.max())
        if hi == lo:
            return data.copy()
        return ((data - lo) / (hi - lo)) ** self.gamma * (hi - lo) + lo  # type: ignore[no-any-return]


class ThresholdValues(IntensityTransform):
    """Binarise: 1 where ``data > threshold``, else 0 (e.g. probabilities to a mask).

    >>> ThresholdValues("pred", threshold=0.5).apply(np.array([0.2, 0.7])).tolist()
    [0.0, 1.0]
    """

    def __init__(self, fields: str | Sequence[str], threshold: float = 0.5,
                 dtype: str = "float32") -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.threshold, self.dtype = threshold, dtype

    def apply(self, data: np.ndarray) -> np.ndarray:
        return (data > self.threshold).astype(self.dtype)


class RandomShiftIntensity(RandomIntensityTransform):
    """With ``probability``, add one offset drawn from ``[-offset, offset]`` to each field.

    >>> t = RandomShiftIntensity(["image"], offset=0.5, probability=1.0)
    >>> t.set_random_state(0)
    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext(); ctx.set_image("image", MedicalImage(np.zeros((1, 2)), "HW"))
    >>> shifted = t.transform(ctx).get_image("image").get_data()
    >>> bool(abs(shifted[0, 0]) <= 0.5 and np.all(shifted == shifted[0, 0]))
    True
    """

    def __init__(self, fields: str | Sequence[str], offset: float = 0.1,
                 probability: float = 0.5) -> None:
        RandomIntensityTransform.__init__(self, fields=fields, probability=probability)
        self.offset = offset

    def draw(self, shape: tuple[int, ...]) -> float:
        return float(self.R.uniform(-self.offset, self.offset))

    def apply(self, data: np.ndarray, params: float) -> np.ndarray:
        return data + params  # type: ignore[no-any-return]


class ScaleIntensityOscillation(RandomIntensityTransform):
    """With ``probability``, multiply by one factor drawn from ``[1 - magnitude, 1 + magnitude]``.

    >>> t = ScaleIntensityOscillation("image", magnitude=0.1, probability=1.0)
    >>> t.set_random_state(0); 0.9 <= t.draw(()) <= 1.1
    True
    """

    def __init__(self, fields: str | Sequence[str], magnitude: float = 0.1,
                 probability: float = 0.5) -> None:
        RandomIntensityTransform.__init__(self, fields=fields, probability=probability)
        self.magnitude = magnitude

    def draw(self, shape: tuple[int, ...]) -> float:
        return float(self.R.uniform(1.0 - self.magnitude, 1.0 + self.magnitude))

    def apply(self, data: np.ndarray, params: float) -> np.ndarray:
        return data * params  # type: ignore[no-any-return]


class AddGaussianNoise(RandomIntensityTransform):
    """With ``probability``, add zero-mean Gaussian noise of ``variance``.

    >>> t = AddGaussianNoise("image", probability=1.0, variance=0.01); t.set_random_state(0)
    >>> noise = t.apply(np.zeros(10000), t.draw((10000,)))
    >>> round(float(noise.std()), 1)
    0.1
    """

    def __init__(self, fields: str | Sequence[str], probability: float = 0.5,
                 variance: float = 0.1) -> None:
        RandomIntensityTransform.__init__(self, fields=fields, probability=probability)
        self.variance = variance

    def draw(self, shape: tuple[int, ...]) -> np.ndarray:
        noise = self.R.standard_normal(size=shape, dtype=np.float32)
        noise *= np.float32(np.sqrt(self.variance))
        return noise

    def apply(self, data: np.ndarray, params: np.ndarray) -> np.ndarray:
        if params.shape != data.shape:
            raise ValueError(f"{type(self).__name__}: fields differ in shape ({data.shape} vs "
                             f"{params.shape}); give one field per transform.")
        return data + params  # type: ignore[no-any-return]


class RandomGaussianSmooth(MultiFieldTransformer, RandomTransform):
    """With ``probability``, blur the spatial axes with a Gaussian of a sigma drawn from
    ``[sigma_min, sigma_max]`` voxels (channels are blurred separately).

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> img = np.zeros((1, 9, 9), "float32"); img[0, 4, 4] = 1
    >>> ctx.set_image("image", MedicalImage(img, "CHW"))
    >>> t = RandomGaussianSmooth("image", sigma_min=1, sigma_max=1, probability=1.0)
    >>> out = t.transform(ctx).get_image("image").get_data()
    >>> round(float(out.sum()), 3), bool(out[0, 4, 4] < 0.2)
    (1.0, True)
    """

    def __init__(self, fields: str | Sequence[str], sigma_min: float = 0.25,
                 sigma_max: float = 1.5, probability: float = 0.5) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.set_probability(probability)
        if not 0 <= sigma_min <= sigma_max:
            raise ValueError("Invalid values for arguments `sigma_min`/`sigma_max` of "
                             f"{type(self).__name__}: expected 0 <= sigma_min <= sigma_max, "
                             f"received {sigma_min!r}/{sigma_max!r}.")
        self.sigma_min, self.sigma_max = sigma_min, sigma_max

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        from scipy import ndimage

        if not self.happens():
            return transform_ctx
        sigma = float(self.R.uniform(self.sigma_min, self.sigma_max))
        for field in self.fields:
            image = transform_ctx.get_image(field)
            fmt = image.get_shape_format()
            spatial = set(fmt.get_spatial_axes())
            sigmas = [sigma if a in spatial else 0.0 for a in range(image.get_data().ndim)]
            out = ndimage.gaussian_filter(_float(image.get_data()), sigmas, mode="nearest")
            transform_ctx.set_image(field, image.new_image(out, fmt))
        return transform_ctx


class RandomMRBiasField(MultiFieldTransformer, RandomTransform):
    """With ``probability``, multiply by a smooth MR bias field: the exponential of a
    polynomial of ``degree`` over the spatial axes with coefficients drawn from
    ``[-coefficient, coefficient]``.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.ones((1, 8, 8, 8), "float32"), "CDHW"))
    >>> t = RandomMRBiasField("image", coefficient=0.3, probability=1.0); t.set_random_state(0)
    >>> field = t.transform(ctx).get_image("image").get_data()
    >>> bool(field.min() > 0 and field.std() > 0)
    True
    """

    def __init__(self, fields: str | Sequence[str], degree: int = 3, coefficient: float = 0.5,
                 probability: float = 0.5) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.set_probability(probability)
        check_argument(type(self).__name__, "degree", degree,
                       isinstance(degree, int) and degree >= 1, "an integer >= 1")
        self.degree, self.coefficient = degree, coefficient

    def _field(self, shape: tuple[int, ...]) -> np.ndarray:
        grids = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
        powers = [p for p in np.ndindex(*([self.degree + 1] * len(shape)))
                  if 0 < sum(p) <= self.degree]
        coeffs = self.R.uniform(-self.coefficient, self.coefficient, size=len(powers))
        log_field = np.zeros(shape)
        for c, p in zip(coeffs, powers, strict=True):
            log_field += c * np.prod([g ** k for g, k in zip(grids, p, strict=True)], axis=0)
        return np.exp(log_field).astype(np.float32)  # type: ignore[no-any-return]

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        if not self.happens():
            return transform_ctx
        first = transform_ctx.get_image(self.fields[0])
        fmt = first.get_shape_format()
        spatial = fmt.get_spatial_axes()
        shape = tuple(first.get_data().shape[a] for a in spatial)
        bias = self._field(shape)
        for field in self.fields:
            image = transform_ctx.get_image(field)
            data = _float(image.get_data())
            full = np.expand_dims(bias, [a for a in range(data.ndim) if a not in spatial])
            transform_ctx.set_image(field, image.new_image(data * full, image.get_shape_format()))
        return transform_ctx
