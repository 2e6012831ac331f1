"""clara-pack-mri: MRI intensity normalisation and a log-cosh Dice loss for Clara BYOC."""
