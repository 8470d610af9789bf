"""Metrics for crowd-trained models: gold scorers and worker metrics."""

from ._embedding import (
    clustering_purity,
    linear_probe_accuracy,
    triplet_accuracy,
    view_attribute_scores,
)
from ._gold import make_gold_scorer
from ._workers import (
    crowd_agreement,
    crowd_log_likelihood,
    worker_accuracy,
    worker_confusion,
    worker_metrics_report,
)

__all__ = [
    "clustering_purity",
    "crowd_agreement",
    "crowd_log_likelihood",
    "linear_probe_accuracy",
    "make_gold_scorer",
    "triplet_accuracy",
    "view_attribute_scores",
    "worker_accuracy",
    "worker_confusion",
    "worker_metrics_report",
]
