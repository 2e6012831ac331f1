"""``ClassificationImagePipeline``: an image and a class label per datalist item."""

from __future__ import annotations

from typing import Any

import numpy as np

from clara_core.data.image_pipeline import ImagePipeline
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext


def is_multi_label(scores: Any) -> bool:
    """Whether a classifier's ``scores`` are one sigmoid per label (several labels may
    hold) rather than class probabilities (a softmax, summing to 1) or one binary
    probability: the rule the accuracy metric and the result writer share.

    >>> is_multi_label([0.9, 0.7, 0.1]), is_multi_label([0.2, 0.8]), is_multi_label([0.7])
    (True, False, False)
    """
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    return values.size > 1 and abs(float(values.sum()) - 1.0) > 1e-3


class ClassificationImagePipeline(ImagePipeline):
    """Images through the ``pre_transforms`` chain with the label the datalist gives:
    ``"label": 2`` (a class index; one-hot of ``num_classes`` when given) or
    ``"label": [0, 1, 1]`` (several binary labels), batched as ``(batch, k)``.
    Caching, workers, seeding and bad cases as
    :class:`~clara_core.data.image_pipeline.ImagePipeline`.

    >>> p = ClassificationImagePipeline("dataset.json", num_classes=3)
    >>> ctx = TransformContext({"label": 2})
    >>> p.label_of(ctx).tolist()
    [0.0, 0.0, 1.0]
    """

    no_effect_args = {
        **ImagePipeline.no_effect_args,
        "output_label_format": "labels are read from the datalist (num_classes one-hots them)",
        "batched_by_transforms": "a classification case is one sample",
        "extra_inputs": "the model takes the image only",
        "items_per_category": "cases are drawn uniformly",
        "category_weights": "cases are drawn uniformly (weight classes in the loss: "
                            "WeightedMulticlassClassificationLoss)",
    }

    def __init__(self, data_list_file_path: str, data_file_base_dir: str | None = None,
                 data_list_key: str = "training", output_batch_size: int = 10,
                 num_workers: int = 4, prefetch_size: int = 20,
                 output_data_format: str = "channels_first", num_classes: int | None = None,
                 image_field: str = "image", label_field: str = "label",
                 shuffle: bool = True, cache: bool = True,
                 num_cache_objects: int | None = None, replace_percent: float = 0.0,
                 cache_dir: str | None = None, skip_bad_cases: bool = False,
                 duplicate_count: int = 1) -> None:
        ImagePipeline.__init__(
            self, data_list_file_path, data_file_base_dir=data_file_base_dir,
            data_list_key=data_list_key, output_batch_size=output_batch_size,
            num_workers=num_workers, prefetch_size=prefetch_size, output_data_format=output_data_format,
            image_field=image_field, label_field=label_field, shuffle=shuffle, cache=cache,
            num_cache_objects=num_cache_objects, replace_percent=replace_percent,
            cache_dir=cache_dir, skip_bad_cases=skip_bad_cases, duplicate_count=duplicate_count)
        self.num_classes = num_classes

    def label_of(self, ctx: TransformContext) -> Any:
        value = ctx[self.label_field]
        if isinstance(value, MedicalImage):
            value = value.get_data()
        label = np.asarray(value, dtype=np.float32).reshape(-1)
        if self.num_classes is not None and label.size == 1:
            index = int(label[0])
            if not 0 <= index < self.num_classes:
                raise ValueError(f"ClassificationImagePipeline: label {index} of "
                                 f"{ctx.get(self.image_field)} is outside 0..{self.num_classes - 1} "
                                 "(num_classes).")
            label = np.eye(self.num_classes, dtype=np.float32)[index]
        return label


class ClassificationImagePipelineWithCache(ClassificationImagePipeline):
    """The SDK's cached classification pipeline (``cls_image_pipeline_with_cache``):
    every pipeline here caches (``num_cache_objects``, ``replace_percent``), so it is
    :class:`ClassificationImagePipeline`; the name is kept for configs that use it."""


class ClassificationKerasImagePipeline(ClassificationImagePipeline):
    """The SDK's Keras variant (``cls_keras_image_pipeline``): one engine on
    TensorFlow 2; the name is kept for configs that use it."""


class ClassificationKerasImagePipelineWithCache(ClassificationImagePipeline):
    """The SDK's cached Keras variant (``cls_keras_image_pipeline_with_cache``): one
    engine on TensorFlow 2; the name is kept for configs that use it."""
