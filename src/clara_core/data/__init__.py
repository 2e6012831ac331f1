"""The data pipeline engine: transform chains, caching, workers and the tf.data bridge."""
