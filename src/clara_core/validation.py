"""Former name of :mod:`clara_core.arguments` (constructor argument checks), kept so
that plugins importing it keep working; new code imports ``clara_core.arguments``."""

from clara_core.arguments import check_argument, check_arguments, check_probability

__all__ = ["check_argument", "check_arguments", "check_probability"]
