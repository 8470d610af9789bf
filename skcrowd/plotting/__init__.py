"""Plots for crowd models (matplotlib is imported only when a plot is drawn).

Install the ``plot`` extra (``pip install 'skcrowd[plot]'``) for matplotlib.
"""

from ._calibration import plot_reliability_diagram
from ._embedding import plot_view_embeddings
from ._multilabel import plot_label_group_f1
from ._rationale import highlight_rationale, plot_rationale
from ._workers import plot_worker_accuracy, plot_worker_confusion

__all__ = [
    "highlight_rationale",
    "plot_label_group_f1",
    "plot_rationale",
    "plot_reliability_diagram",
    "plot_view_embeddings",
    "plot_worker_accuracy",
    "plot_worker_confusion",
]
