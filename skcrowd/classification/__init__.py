"""Classifiers trained from crowd label matrices."""

from ._aggregated import AggregatedClassifier

__all__ = ["AggregatedClassifier"]
