"""The seed's MyAddRandomConstant: add a random constant to an image (augmentation).

Changed from the seed: imports come from ``clara_core`` instead of ``ai4med``, and
the random number comes from ``self.R`` (this transform's own generator, which the
pipeline seeds per case and epoch) instead of NumPy's global ``np.random``, which
worker threads share: with it two runs with the same seed would differ.
"""

import numpy as np

from clara_core import MultiFieldTransformer


class MyAddRandomConstant(MultiFieldTransformer):

    def __init__(self, fields, magnitude, dtype=np.float32):
        # fields specifies the names of the image fields in the data dict that you want to add constant to
        MultiFieldTransformer.__init__(self, fields)
        self.dtype = dtype
        self.magnitude = magnitude

    def transform(self, transform_ctx):
        for field in self.fields:
            offset = (self.R.random() * 2.0 - 1.0) * self.magnitude
            # get the MedicalImage using field
            img = transform_ctx.get_image(field)

            # get_data give us a numpy array of data
            result = img.get_data() + offset

            # create a new MedicalImage use new_image() method
            # which will carry over the properties of the original image
            result_img = img.new_image(result, img.get_shape_format())

            # set the image back in transform_ctx
            transform_ctx.set_image(field, result_img)
        return transform_ctx

    def is_deterministic(self):
        """ This is not a deterministic transform.

        Returns:
            False (bool)
        """
        return False
