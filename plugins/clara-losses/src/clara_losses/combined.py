"""``CrossEntropyDice`` and ``FocalDice``: a weighted sum of a voxel loss and Dice."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Loss
from clara_core.arguments import check_arguments
from clara_losses.cross_entropy import CrossEntropy, Focal
from clara_losses.dice import Dice


class CrossEntropyDice(Loss):
    """``lambda_dice * Dice + lambda_ce * CrossEntropy`` (MONAI's ``DiceCELoss``).

    The Dice arguments are the seed's (``skip_background``, ``squared_pred``,
    ``jaccard``, ``smooth``, ``top_smooth``); the cross-entropy always covers
    every class, as MONAI's does. ``sigmoid`` (with ``is_onehot_targets``): sigmoid
    outputs of overlapping classes, with the binary cross-entropy of each channel
    (nnU-Net's loss for region-based training: MONAI's ``DiceLoss(sigmoid=True)`` plus
    ``BCEWithLogitsLoss``; MONAI's ``DiceCELoss(sigmoid=True)`` differs, taking the
    softmax cross-entropy when there are several channels).
    """

    def __init__(self, data_format: str = "channels_first", lambda_dice: float = 1.0,
                 lambda_ce: float = 1.0, skip_background: bool = False,
                 squared_pred: bool = False, jaccard: bool = False, smooth: float = 1e-5,
                 top_smooth: float = 0.0, is_onehot_targets: bool = False,
                 sigmoid: bool = False) -> None:
        Loss.__init__(self)
        check_arguments(type(self).__name__, [
            ("lambda_dice", lambda_dice, lambda_dice >= 0, "a float >= 0"),
            ("lambda_ce", lambda_ce, lambda_ce >= 0, "a float >= 0"),
        ])
        self.data_format = data_format
        self.lambda_dice, self.lambda_ce = lambda_dice, lambda_ce
        self.skip_background, self.squared_pred, self.jaccard = (
            skip_background, squared_pred, jaccard)
        self.smooth, self.top_smooth = smooth, top_smooth
        self.is_onehot_targets, self.sigmoid = is_onehot_targets, sigmoid
        self._dice = Dice(data_format, skip_background, squared_pred, jaccard, smooth,
                          top_smooth, is_onehot_targets)
        self._ce = CrossEntropy(data_format, is_onehot_targets, sigmoid=sigmoid)

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        return (self.lambda_dice * self._dice.get_loss(predictions, targets)
                + self.lambda_ce * self._ce.get_loss(predictions, targets))


class FocalDice(Loss):
    """``lambda_dice * Dice + lambda_focal * Focal`` (MONAI's ``DiceFocalLoss`` up to Focal's scale)."""

    def __init__(self, data_format: str = "channels_first", lambda_dice: float = 1.0,
                 lambda_focal: float = 1.0, gamma: float = 2.0, alpha: float | None = None,
                 skip_background: bool = False, squared_pred: bool = False,
                 jaccard: bool = False, smooth: float = 1e-5, top_smooth: float = 0.0,
                 is_onehot_targets: bool = False) -> None:
        Loss.__init__(self)
        check_arguments(type(self).__name__, [
            ("lambda_dice", lambda_dice, lambda_dice >= 0, "a float >= 0"),
            ("lambda_focal", lambda_focal, lambda_focal >= 0, "a float >= 0"),
        ])
        self.data_format = data_format
        self.lambda_dice, self.lambda_focal = lambda_dice, lambda_focal
        self.gamma, self.alpha = gamma, alpha
        self.skip_background, self.squared_pred, self.jaccard = (
            skip_background, squared_pred, jaccard)
        self.smooth, self.top_smooth = smooth, top_smooth
        self.is_onehot_targets = is_onehot_targets
        self._dice = Dice(data_format, skip_background, squared_pred, jaccard, smooth,
                          top_smooth, is_onehot_targets)
        self._focal = Focal(data_format, gamma, alpha, skip_background, is_onehot_targets)

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        return (self.lambda_dice * self._dice.get_loss(predictions, targets)
                + self.lambda_focal * self._focal.get_loss(predictions, targets))
