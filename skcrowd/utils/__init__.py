"""Crowd label data model: validation and format conversion."""

from ._long import crowd_matrix_from_long, crowd_matrix_to_long
from .validation import CrowdMatrix, check_crowd_matrix, is_missing_label

__all__ = [
    "CrowdMatrix",
    "check_crowd_matrix",
    "crowd_matrix_from_long",
    "crowd_matrix_to_long",
    "is_missing_label",
]
