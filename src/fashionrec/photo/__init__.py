"""Shopper photos: the article-type gate, query crops and shopper-style augmentation.

Example:
    >>> from fashionrec.photo import TypeGate, crop_photo               # doctest: +SKIP
    >>> gate = TypeGate.load("idx/gate")                                 # doctest: +SKIP
    >>> gate.decide(vector).types                                        # doctest: +SKIP
    ['Jeans']
"""

from fashionrec.photo.augment import background, product_mask, shopper_style
from fashionrec.photo.crop import CROP_MODES, GarmentCropCfg, crop_photo, garment_box
from fashionrec.photo.gate import GateDecision, TypeGate, expected_calibration_error

__all__ = [
    "CROP_MODES",
    "GarmentCropCfg",
    "GateDecision",
    "TypeGate",
    "background",
    "crop_photo",
    "expected_calibration_error",
    "garment_box",
    "product_mask",
    "shopper_style",
]
