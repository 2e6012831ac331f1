"""The workflow engine: build order, training loop, validation and checkpoints."""
