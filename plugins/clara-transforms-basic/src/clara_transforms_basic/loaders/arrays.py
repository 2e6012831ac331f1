"""Array files: ``LoadNumpy`` (``.npy``/``.npz``, the seed's MyNumpyLoader) and
``LoadMat`` (MATLAB ``.mat``)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from clara_core import ImageProperty, MedicalImage, ShapeFormat
from clara_transforms_basic.loaders.base import FileLoader


def _as_image(owner: str, file_name: str, data: np.ndarray, shape: ShapeFormat) -> MedicalImage:
    if data.ndim != shape.get_number_of_dims():
        raise ValueError(f"{owner}: {file_name} holds an array of shape {data.shape} "
                         f"({data.ndim} axes) but `shape` is {shape} "
                         f"({shape.get_number_of_dims()} axes): set `shape` to the array's "
                         "layout.")
    image = MedicalImage(data, shape)
    image.set_property(ImageProperty.FILENAME, file_name)
    image.set_property(ImageProperty.ORIGINAL_SHAPE, data.shape)
    return image


class LoadNumpy(FileLoader):
    """Load ``.npy`` files (or the array ``key`` of an ``.npz``) as images of layout
    ``shape`` ("DHW", "CHW", ...): NumPy files do not say what their axes are.

    >>> import tempfile
    >>> from clara_core import TransformContext
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npy"); np.save(path, np.ones((2, 3, 4)))
    >>> img = LoadNumpy("image", shape="DHW").transform(TransformContext({"image": path}))
    >>> img.get_image("image")
    MedicalImage(shape=(2, 3, 4), dtype=float32, format=DHW)
    """

    def __init__(self, fields: str | Sequence[str], shape: str, dtype: str = "float32",
                 key: str | None = None) -> None:
        FileLoader.__init__(self, fields, dtype)
        self.shape, self.key = shape, key
        self._shape = ShapeFormat(shape)

    def load(self, file_name: str) -> MedicalImage:
        if not os.path.exists(file_name):
            raise FileNotFoundError(f"LoadNumpy: file not found: {file_name}")
        try:
            loaded = np.load(file_name, allow_pickle=False)
        except Exception as exc:
            raise ValueError(f"LoadNumpy: cannot read {file_name} as a NumPy file: "
                             f"{exc}") from exc
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                names = list(loaded.files)
                key = self.key or (names[0] if len(names) == 1 else None)
                if key not in names:
                    raise ValueError(f"LoadNumpy: {file_name} holds arrays {names}; choose one "
                                     "with `key`.")
                loaded = loaded[key]
        return _as_image("LoadNumpy", file_name, np.asarray(loaded, dtype=self._dtype),
                         self._shape)


class LoadMat(FileLoader):
    """Load the variable ``key`` of MATLAB ``.mat`` files (scipy.io) as images of layout
    ``shape``; without ``key`` the file must hold exactly one variable.

    >>> import tempfile, scipy.io
    >>> from clara_core import TransformContext
    >>> path = os.path.join(tempfile.mkdtemp(), "a.mat")
    >>> scipy.io.savemat(path, {"vol": np.zeros((2, 3, 4))})
    >>> LoadMat("image", shape="DHW").transform(TransformContext({"image": path})).get_image("image")
    MedicalImage(shape=(2, 3, 4), dtype=float32, format=DHW)
    """

    def __init__(self, fields: str | Sequence[str], shape: str, dtype: str = "float32",
                 key: str | None = None) -> None:
        FileLoader.__init__(self, fields, dtype)
        self.shape, self.key = shape, key
        self._shape = ShapeFormat(shape)

    def load(self, file_name: str) -> MedicalImage:
        import scipy.io

        if not os.path.exists(file_name):
            raise FileNotFoundError(f"LoadMat: file not found: {file_name}")
        try:
            content = scipy.io.loadmat(file_name)
        except Exception as exc:
            raise ValueError(f"LoadMat: cannot read {file_name} as a MATLAB file: "
                             f"{exc}") from exc
        names = [k for k in content if not k.startswith("__")]
        key = self.key or (names[0] if len(names) == 1 else None)
        if key not in names:
            raise ValueError(f"LoadMat: {file_name} holds variables {names}; choose one with "
                             "`key`.")
        return _as_image("LoadMat", file_name, np.asarray(content[key], dtype=self._dtype),
                         self._shape)
