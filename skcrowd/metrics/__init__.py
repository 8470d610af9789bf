"""Metrics for crowd-trained models: gold scorers, worker and multi-label metrics."""

from ._embedding import (
    clustering_purity,
    linear_probe_accuracy,
    triplet_accuracy,
    view_attribute_scores,
)
from ._gold import make_gold_scorer
from ._multilabel import (
    label_frequency_groups,
    macro_precision_at_k,
    multilabel_f1_report,
    ndcg_at_k,
    precision_at_k,
)
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
    "label_frequency_groups",
    "linear_probe_accuracy",
    "macro_precision_at_k",
    "make_gold_scorer",
    "multilabel_f1_report",
    "ndcg_at_k",
    "precision_at_k",
    "triplet_accuracy",
    "view_attribute_scores",
    "worker_accuracy",
    "worker_confusion",
    "worker_metrics_report",
]
