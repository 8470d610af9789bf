"""Plots for crowd models (matplotlib is imported only when a plot is drawn).

Install the ``plot`` extra (``pip install 'skcrowd[plot]'``) for matplotlib.
"""

from ._embedding import plot_view_embeddings

__all__ = ["plot_view_embeddings"]
