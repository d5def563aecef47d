"""Colour understanding: the garment's pixels, a colour descriptor, catalog colour names."""

from .extract import (
    DESCRIPTOR_DIM,
    DESCRIPTOR_VERSION,
    colour_descriptor,
    descriptor_from_pixels,
    dominant_colours,
    garment_pixels,
    rgb_to_lab,
)
from .vocabulary import ColourNamer, colour_groups, group_accuracy, same_group

__all__ = [
    "DESCRIPTOR_DIM",
    "DESCRIPTOR_VERSION",
    "ColourNamer",
    "colour_descriptor",
    "colour_groups",
    "descriptor_from_pixels",
    "dominant_colours",
    "garment_pixels",
    "group_accuracy",
    "rgb_to_lab",
    "same_group",
]
