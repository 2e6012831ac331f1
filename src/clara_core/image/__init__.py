"""Image containers shared by transforms, loaders and pipelines."""
