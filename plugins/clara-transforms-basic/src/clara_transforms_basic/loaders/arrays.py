"""Array files: ``LoadNumpy`` (``.npy``/``.npz``, the seed's MyNumpyLoader) and
``LoadMat`` (MATLAB ``.mat``). Neither format says what its axes are, so both take
the layout as ``shape``; files with several arrays take ``key``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from clara_core import ImageProperty, MedicalImage, ShapeFormat
from clara_transforms_basic.loaders.base import FileLoader


class ArrayFileLoader(FileLoader):
    """Shared by the array loaders: ``read(file_name)`` returns an array, or a mapping
    of named arrays from which ``key`` (or the only one) is taken."""

    format_name = "array"
    # no file_suffixes: an array file does not say what its axes are, so the engine
    # cannot build this loader from a file's format alone (it needs `shape`)

    def __init__(self, fields: str | Sequence[str], shape: str, dtype: str = "float32",
                 key: str | None = None) -> None:
        FileLoader.__init__(self, fields=fields, dtype=dtype)
        self.shape, self.key = shape, key
        self._shape = ShapeFormat(shape)

    def read(self, file_name: str) -> Any:
        raise NotImplementedError

    def load(self, file_name: str) -> MedicalImage:
        owner = type(self).__name__
        if not os.path.exists(file_name):
            raise FileNotFoundError(f"{owner}: file not found: {file_name}")
        try:
            content = self.read(file_name)
        except Exception as exc:
            raise ValueError(f"{owner}: cannot read {file_name} as a {self.format_name} file: "
                             f"{exc}") from exc
        if isinstance(content, Mapping):
            names = [k for k in content if not k.startswith("__")]
            key = self.key or (names[0] if len(names) == 1 else None)
            if key not in names:
                raise ValueError(f"{owner}: {file_name} holds {names}; choose one with `key`.")
            content = content[key]
        data = np.asarray(content, dtype=self._dtype)
        if data.ndim != self._shape.get_number_of_dims():
            raise ValueError(f"{owner}: {file_name} holds an array of shape {data.shape} "
                             f"({data.ndim} axes) but `shape` is {self._shape} "
                             f"({self._shape.get_number_of_dims()} axes): set `shape` to the "
                             "array's layout.")
        image = MedicalImage(data, self._shape)
        image.set_property(ImageProperty.FILENAME, file_name)
        image.set_property(ImageProperty.ORIGINAL_SHAPE, data.shape)
        return image


class LoadNumpy(ArrayFileLoader):
    """Load ``.npy`` files (or the array ``key`` of an ``.npz``) as images of layout
    ``shape`` ("DHW", "CHW", ...).

    >>> import tempfile
    >>> from clara_core import TransformContext
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npy"); np.save(path, np.ones((2, 3, 4)))
    >>> img = LoadNumpy("image", shape="DHW").transform(TransformContext({"image": path}))
    >>> img.get_image("image")
    MedicalImage(shape=(2, 3, 4), dtype=float32, format=DHW)
    """

    format_name = "NumPy"

    def read(self, file_name: str) -> Any:
        loaded = np.load(file_name, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                return {name: loaded[name] for name in loaded.files}
        return loaded


class LoadMat(ArrayFileLoader):
    """Load the variable ``key`` of MATLAB ``.mat`` files (scipy.io) as images of layout
    ``shape``; without ``key`` the file must hold exactly one variable.

    >>> import tempfile, scipy.io
    >>> from clara_core import TransformContext
    >>> path = os.path.join(tempfile.mkdtemp(), "a.mat")
    >>> scipy.io.savemat(path, {"vol": np.zeros((2, 3, 4))})
    >>> LoadMat("image", shape="DHW").transform(TransformContext({"image": path})).get_image("image")
    MedicalImage(shape=(2, 3, 4), dtype=float32, format=DHW)
    """

    format_name = "MATLAB"

    def read(self, file_name: str) -> Any:
        import scipy.io

        return scipy.io.loadmat(file_name)
