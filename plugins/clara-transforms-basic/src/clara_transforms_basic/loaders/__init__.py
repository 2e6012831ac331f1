"""Data loaders: transforms that turn file names into MedicalImages."""
