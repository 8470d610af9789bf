"""Shared helpers of the plot functions (matplotlib is imported lazily)."""

from __future__ import annotations


def import_pyplot():
    """Return ``matplotlib.pyplot``, or raise an ImportError naming the extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib: pip install 'skcrowd[plot]'."
        ) from exc
    return plt


def get_ax(ax, figsize=(4.5, 4)):
    """``ax``, or the axes of a new figure when ``ax`` is None."""
    if ax is not None:
        return ax
    plt = import_pyplot()
    _, ax = plt.subplots(figsize=figsize)
    return ax
