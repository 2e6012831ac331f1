"""Former name of :mod:`clara_transforms_basic.channels` (the channel-axis transforms),
kept so that existing imports keep working; new code imports ``channels``."""

from clara_transforms_basic.channels import *  # noqa: F403
from clara_transforms_basic.channels import __all__  # noqa: F401
