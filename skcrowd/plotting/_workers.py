"""Plots of the workers: confusion heatmaps and estimated vs true accuracy.

matplotlib is an optional dependency (the ``plot`` extra); it is imported
when a plot is drawn, never when skcrowd is imported.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._base import get_ax, import_pyplot

__all__ = ["plot_worker_accuracy", "plot_worker_confusion"]


def plot_worker_confusion(
    confusion,
    classes=None,
    *,
    workers=None,
    titles=None,
    n_cols=4,
    cmap="Blues",
    annotate=None,
    colorbar=True,
    ax=None,
):
    """Draw worker confusion matrices as heatmaps, one panel per worker.

    Row ``k`` of a panel is the true class, column ``l`` the label given,
    and the colour the probability ``confusion[r, k, l]`` that worker ``r``
    answers ``l`` when the truth is ``k``. A reliable worker has a dark
    diagonal, a spammer a uniform or a single dark column, and a worker who
    mixes up two classes a dark off-diagonal cell. Rows that are NaN (a
    class the worker never met) are drawn in grey.

    Parameters
    ----------
    confusion : array-like of shape (n_classes, n_classes) or \
            (n_workers, n_classes, n_classes)
        One confusion matrix or one per worker, rows the true class: e.g.
        ``DawidSkene().fit(Y).confusion_``, ``CrowdClassifier.worker_confusion_``
        or :func:`skcrowd.metrics.worker_confusion` against gold labels.
    classes : array-like of shape (n_classes,), default=None
        Tick labels of the rows and columns; default ``0..n_classes-1``.
    workers : array-like of int, default=None
        Indices of the workers to draw (default all of them).
    titles : list of str, default=None
        One title per panel; default ``"worker r"`` (none for a single
        matrix).
    n_cols : int, default=4
        Panels per row of a new figure.
    cmap : str, default="Blues"
        Matplotlib colour map of the probabilities, scaled to ``[0, 1]``.
    annotate : bool, default=None
        Write each probability in its cell; default when there are at most
        six classes.
    colorbar : bool, default=True
        Add one colour bar for all panels.
    ax : matplotlib Axes or array-like of Axes, default=None
        Axes to draw in, at least one per panel; default a new figure with
        ``n_cols`` panels per row.

    Returns
    -------
    axes : ndarray of matplotlib Axes
        The axes drawn in, one per panel.

    See Also
    --------
    plot_worker_accuracy : Estimated vs true accuracy of each worker.
    skcrowd.metrics.worker_confusion : Each worker's confusion against gold.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import DawidSkene
    >>> from skcrowd.plotting import plot_worker_confusion
    >>> Y = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, np.nan, 0]])
    >>> ds = DawidSkene().fit(Y)
    >>> axes = plot_worker_confusion(ds.confusion_, classes=["no", "yes"])
    >>> len(axes)
    3
    >>> axes[0].get_title()
    'worker 0'
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    single = confusion.ndim == 2
    if single:
        confusion = confusion[None]
    if confusion.ndim != 3 or confusion.shape[1] != confusion.shape[2]:
        raise ValueError(
            "confusion must be (n_classes, n_classes) or (n_workers, n_classes, "
            f"n_classes); got shape {confusion.shape}."
        )
    n_workers, n_classes = confusion.shape[:2]
    if n_workers == 0 or n_classes == 0:
        raise ValueError(
            "confusion is empty: it needs at least one worker and one class; got "
            f"shape {confusion.shape}."
        )
    if workers is None:
        workers = np.arange(n_workers)
    else:
        workers = np.asarray(workers, dtype=np.int64).ravel()
        if workers.size == 0 or workers.min() < 0 or workers.max() >= n_workers:
            raise ValueError(
                f"workers must index the {n_workers} confusion matrices; got "
                f"{workers.tolist()}."
            )
    if classes is None:
        classes = np.arange(n_classes)
    classes = [str(c) for c in np.asarray(classes).ravel()]
    if len(classes) != n_classes:
        raise ValueError(f"classes has {len(classes)} entries for {n_classes} classes.")
    if titles is None:
        titles = [None] if single else [f"worker {r}" for r in workers]
    if len(titles) != len(workers):
        raise ValueError(f"titles has {len(titles)} entries for {len(workers)} panels.")
    if annotate is None:
        annotate = n_classes <= 6

    plt = import_pyplot()
    n_panels = len(workers)
    if ax is None:
        n_cols = max(1, min(int(n_cols), n_panels))
        n_rows = -(-n_panels // n_cols)
        size = 1.0 + 0.35 * max(n_classes, 4)
        fig, grid = plt.subplots(
            n_rows,
            n_cols,
            figsize=(size * n_cols + (0.8 if colorbar else 0), size * n_rows),
            squeeze=False,
            layout="constrained",
        )
        grid = grid.ravel()
        for spare in grid[n_panels:]:
            spare.set_axis_off()
        axes = grid[:n_panels]
    else:
        axes = np.ravel(np.asarray(ax, dtype=object))
        if len(axes) < n_panels:
            raise ValueError(f"Need {n_panels} axes, got {len(axes)}.")
        axes = axes[:n_panels]
        fig = axes[0].figure
        n_cols = n_panels

    colours = plt.get_cmap(cmap).with_extremes(bad="0.85")
    image = None
    for i, (panel, r) in enumerate(zip(axes, workers, strict=True)):
        matrix = np.ma.masked_invalid(confusion[r])
        image = panel.imshow(matrix, cmap=colours, vmin=0.0, vmax=1.0)
        ticks = np.arange(n_classes)
        panel.set_xticks(ticks, classes, rotation=90 if n_classes > 6 else 0)
        panel.set_yticks(ticks, classes)
        if titles[i] is not None:
            panel.set_title(titles[i], fontsize="medium")
        if i % n_cols == 0:
            panel.set_ylabel("true class")
        if i >= n_panels - n_cols:
            panel.set_xlabel("label given")
        if annotate:
            for k in range(n_classes):
                for l in range(n_classes):
                    value = confusion[r, k, l]
                    if not np.isfinite(value):
                        continue
                    panel.text(
                        l,
                        k,
                        f"{value:.2f}",
                        ha="center",
                        va="center",
                        fontsize="x-small",
                        color="white" if value > 0.6 else "black",
                    )
    if colorbar and image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8, label="P(label | true class)")
    return axes


def plot_worker_accuracy(
    estimated,
    true,
    *,
    n_labels=None,
    ax=None,
):
    """Scatter each worker's estimated accuracy against their true accuracy.

    Points on the diagonal are workers whose skill the model got right;
    points below it are workers it trusts less than it should. The legend
    gives each model's mean absolute error over the workers.

    Parameters
    ----------
    estimated : array-like of shape (n_workers,) or dict of str to array-like
        The accuracy a model estimates for each worker (e.g. the
        ``"accuracy"`` column of an aggregator's ``worker_report()``), or a
        dict ``{model name: estimates}`` to compare several models.
    true : array-like of shape (n_workers,)
        The true accuracy of each worker: from a simulation, or
        :func:`skcrowd.metrics.worker_accuracy` against gold labels. Workers
        with a NaN on either side are left out.
    n_labels : array-like of shape (n_workers,), default=None
        Number of labels of each worker: the marker area grows with it, so
        that the workers whose accuracy is well determined stand out.
    ax : matplotlib Axes, default=None
        Axes to draw in; default a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn in.

    See Also
    --------
    plot_worker_confusion : The full confusion matrix of each worker.
    skcrowd.metrics.worker_metrics_report : The same comparison as numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.plotting import plot_worker_accuracy
    >>> true = np.array([0.9, 0.8, 0.5, 0.3])
    >>> ax = plot_worker_accuracy({"model": [0.88, 0.83, 0.55, 0.3]}, true)
    >>> ax.get_xlabel()
    'true accuracy'
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['model (MAE 0.025)']
    """
    true = np.asarray(true, dtype=np.float64).ravel()
    if isinstance(estimated, Mapping):
        series = {str(k): v for k, v in estimated.items()}
    else:
        series = {"estimated": estimated}
    if not series:
        raise ValueError("estimated is an empty dict: give at least one model.")
    sizes = None
    if n_labels is not None:
        n_labels = np.asarray(n_labels, dtype=np.float64).ravel()
        if n_labels.shape != true.shape:
            raise ValueError(
                f"n_labels has shape {n_labels.shape}; true has {true.shape}."
            )
        sizes = 12 + 120 * np.sqrt(n_labels / max(np.nanmax(n_labels), 1.0))

    ax = get_ax(ax)
    for name, values in series.items():
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.shape != true.shape:
            raise ValueError(
                f"The estimates of {name!r} have shape {values.shape}; true has "
                f"{true.shape}: give one accuracy per worker."
            )
        keep = np.isfinite(values) & np.isfinite(true)
        mae = np.mean(np.abs(values[keep] - true[keep])) if keep.any() else np.nan
        ax.scatter(
            true[keep],
            values[keep],
            s=None if sizes is None else sizes[keep],
            alpha=0.7,
            edgecolors="white",
            linewidths=0.5,
            label=f"{name} (MAE {mae:.3f})",
        )
    ax.plot([0, 1], [0, 1], color="0.4", linestyle="--", linewidth=1, zorder=0)
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.set_aspect("equal")
    ax.set_xlabel("true accuracy")
    ax.set_ylabel("estimated accuracy")
    ax.legend(loc="upper left", fontsize="small")
    return ax
