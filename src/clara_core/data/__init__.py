"""The data pipeline engine: transform chains (``chain``), the case cache (``case_cache``,
``cache``), the batcher (``batcher``), the replica feed (``replica_feed``, ``shard``) and
``ImagePipeline``, which composes them (``image_pipeline``)."""
