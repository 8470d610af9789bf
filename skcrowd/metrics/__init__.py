"""Metrics for crowd-trained models: gold scorers and worker metrics."""

from ._gold import make_gold_scorer
from ._workers import (
    crowd_agreement,
    crowd_log_likelihood,
    worker_accuracy,
    worker_confusion,
    worker_metrics_report,
)

__all__ = [
    "crowd_agreement",
    "crowd_log_likelihood",
    "make_gold_scorer",
    "worker_accuracy",
    "worker_confusion",
    "worker_metrics_report",
]
