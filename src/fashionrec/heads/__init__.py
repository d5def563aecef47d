"""Trained heads on frozen embeddings: attribute classifiers and retrieval projections.

Both train with torch on the CPU and predict in pure numpy, so serving needs no torch.

>>> from fashionrec.heads import AttributeClassifier, ColourHead, ProjectionHead
"""

from __future__ import annotations

from fashionrec.heads._train import (
    HeadError,
    expected_calibration_error,
    fit_temperature,
    split_by_product,
)
from fashionrec.heads.attributes import AttributeClassifier, evaluate_classifier
from fashionrec.heads.colour import ColourHead
from fashionrec.heads.projection import ProjectionHead

__all__ = [
    "AttributeClassifier",
    "ColourHead",
    "HeadError",
    "ProjectionHead",
    "evaluate_classifier",
    "expected_calibration_error",
    "fit_temperature",
    "split_by_product",
]
