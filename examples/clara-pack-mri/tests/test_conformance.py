"""The conformance kit, as any plugin author runs it."""

from clara_pack_mri.losses import LogCoshDice
from clara_pack_mri.normalize import ZScoreNonzero

from clara_core.testing import conformance_tests

test_conformance = conformance_tests([ZScoreNonzero(fields=["image"]),
                                      LogCoshDice(data_format="channels_last")])
