"""The seed's MyNumpyReader and MyNumpyLoader: load ``.npy`` volumes as MedicalImages.

Changed from the seed: imports come from ``clara_core`` instead of ``ai4med``, and
``ai4med.utils.dtype_utils.str_to_dtype`` is NumPy's own ``np.dtype``.
"""

import logging

import numpy as np

from clara_core import ImageProperty, MedicalImage, MultiFieldTransformer, ShapeFormat, TransformContext


class MyNumpyReader(object):
    """Reads Numpy files.

    Args:
        dtype: Type for data to be loaded.
    """
    def __init__(self, dtype=np.float32):
        self._logger = logging.getLogger(self.__class__.__name__)
        self._dtype = dtype

    def read(self, file_name, shape: ShapeFormat):
        assert shape, "Please provide a valid shape."
        assert file_name, "Please provide a filename."

        if isinstance(file_name, (bytes, bytearray)):
            file_name = file_name.decode('UTF-8')
        data = np.load(file_name, allow_pickle=True).astype(self._dtype)

        assert len(data.shape) == shape.get_number_of_dims(), \
            "Dims of loaded data and provided shape don't match."

        img = MedicalImage(data, shape)
        img.set_property(ImageProperty.ORIGINAL_SHAPE, data.shape)
        img.set_property(ImageProperty.FILENAME, file_name)

        return img


class MyNumpyLoader(MultiFieldTransformer):
    """Load Image from Numpy files.

    Args:
        shape (ShapeFormat): Shape of output image.
        dtype : Type for output data.
    """

    def __init__(self, fields, shape, dtype="float32"):
        MultiFieldTransformer.__init__(self, fields=fields)
        self._dtype = np.dtype(dtype)
        self._shape = ShapeFormat(shape)
        self._reader = MyNumpyReader(self._dtype)

    def transform(self, transform_ctx: TransformContext):
        for field in self.fields:
            file_name = transform_ctx[field]
            transform_ctx.set_image(field, self._reader.read(file_name, self._shape))

        return transform_ctx
