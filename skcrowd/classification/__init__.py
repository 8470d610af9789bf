"""Classifiers trained from crowd label matrices."""

from ._aggregated import AggregatedClassifier
from ._crowd import CROWD_MODEL_NAMES, CrowdClassifier

__all__ = ["AggregatedClassifier", "CROWD_MODEL_NAMES", "CrowdClassifier"]
