"""Trained heads on frozen embeddings: attribute classifiers and a retrieval projection.

Both train with torch on the CPU and predict in pure numpy, so serving needs no torch.

>>> from fashionrec.heads import AttributeClassifier, ProjectionHead, split_by_product
"""

from __future__ import annotations

from fashionrec.heads._train import (
    HeadError,
    expected_calibration_error,
    fit_temperature,
    split_by_product,
)
from fashionrec.heads.attributes import AttributeClassifier, evaluate_classifier
from fashionrec.heads.projection import ProjectionHead

__all__ = [
    "AttributeClassifier",
    "HeadError",
    "ProjectionHead",
    "evaluate_classifier",
    "expected_calibration_error",
    "fit_temperature",
    "split_by_product",
]
