"""``SegmentationImagePipeline`` (image and label volumes) and its cached form."""

from __future__ import annotations

from clara_core.data.image_pipeline import ImagePipeline


class SegmentationImagePipeline(ImagePipeline):
    """Image/label pairs from a datalist through the ``pre_transforms`` chain, in batches
    of ``output_batch_size``; see :class:`~clara_core.data.image_pipeline.ImagePipeline`
    for caching, workers, seeding and bad cases."""


class SegmentationImagePipelineWithCache(SegmentationImagePipeline):
    """The SDK's smart-cache pipeline: ``num_cache_objects`` cases in memory (default
    all), ``replace_percent`` of them replaced after each epoch while training goes on.

    >>> p = SegmentationImagePipelineWithCache("dataset.json", num_cache_objects=8,
    ...                                        replace_percent=0.25)
    >>> p.num_cache_objects, p.replace_percent
    (8, 0.25)
    """

    def __init__(self, data_list_file_path: str, data_file_base_dir: str | None = None,
                 data_list_key: str = "training", output_batch_size: int = 1,
                 num_workers: int = 1, prefetch_size: int = 1,
                 output_data_format: str = "channels_first",
                 num_cache_objects: int | None = None, replace_percent: float = 0.1,
                 image_field: str = "image", label_field: str = "label",
                 shuffle: bool = True, cache_dir: str | None = None,
                 skip_bad_cases: bool = False, duplicate_count: int = 1,
                 batched_by_transforms: bool = False) -> None:
        SegmentationImagePipeline.__init__(
            self, data_list_file_path, data_file_base_dir=data_file_base_dir,
            data_list_key=data_list_key, output_batch_size=output_batch_size,
            num_workers=num_workers, prefetch_size=prefetch_size,
            output_data_format=output_data_format, image_field=image_field,
            label_field=label_field, shuffle=shuffle, cache=True,
            num_cache_objects=num_cache_objects, replace_percent=replace_percent,
            cache_dir=cache_dir, skip_bad_cases=skip_bad_cases, duplicate_count=duplicate_count,
            batched_by_transforms=batched_by_transforms)


class SegmentationKerasImagePipeline(SegmentationImagePipeline):
    """The SDK's Keras variant of :class:`SegmentationImagePipeline`. On TensorFlow 2 every
    pipeline feeds a Keras model, so the two are one engine; the name is kept for
    configs that use it."""


class SegmentationKerasImagePipelineWithCache(SegmentationImagePipelineWithCache):
    """The SDK's Keras variant of :class:`SegmentationImagePipelineWithCache` (one engine
    on TensorFlow 2; the name is kept for configs that use it)."""
