"""Plots of multi-label results: F1 of the entire label set and of each group.

matplotlib is an optional dependency (the ``plot`` extra); it is imported
when a plot is drawn, never when skcrowd is imported.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._base import get_ax

__all__ = ["plot_label_group_f1"]

_ORDER = ("entire", "head", "medium", "tail")


def plot_label_group_f1(results, *, average="macro", annotate=True, ax=None):
    """Grouped bars of F1 on the entire label set and on head/medium/tail labels.

    One group of bars per label group (``entire``, ``head``, ``medium``,
    ``tail``, then any other group of the reports), one bar per model. A
    long-tailed model shows its gain where it matters: on the tail bars.
    Groups without a score for any model (NaN, e.g. no label in the group)
    are left out; a model without a score for a group has no bar there.

    Parameters
    ----------
    results : dict of str to dict
        ``{model name: report}``, each report a dict returned by
        :func:`skcrowd.metrics.multilabel_f1_report` (with ``groups`` given,
        or only ``"entire"``).
    average : {"macro", "micro"}, default="macro"
        Which F1 of the reports to draw.
    annotate : bool, default=True
        Write each score above its bar.
    ax : matplotlib Axes, default=None
        Axes to draw in; default a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn in.

    Raises
    ------
    ValueError
        If ``results`` is empty or not a dict of reports, or ``average`` is
        unknown.

    See Also
    --------
    skcrowd.metrics.multilabel_f1_report : The reports drawn here.
    skcrowd.metrics.label_frequency_groups : The head/medium/tail split.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import multilabel_f1_report
    >>> from skcrowd.plotting import plot_label_group_f1
    >>> Y_true = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]])
    >>> groups = ["head", "medium", "tail"]
    >>> results = {
    ...     "plain": multilabel_f1_report(Y_true, np.array(
    ...         [[1, 0, 0], [1, 0, 0], [0, 0, 0], [1, 0, 0]]), groups=groups),
    ...     "balanced": multilabel_f1_report(Y_true, np.array(
    ...         [[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]]), groups=groups),
    ... }
    >>> ax = plot_label_group_f1(results)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['entire', 'head', 'medium', 'tail']
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['plain', 'balanced']
    >>> ax.get_ylabel()
    'macro-F1'
    """
    if average not in ("macro", "micro"):
        raise ValueError(f"average must be 'macro' or 'micro'; got {average!r}.")
    if not isinstance(results, Mapping) or not results:
        raise ValueError(
            "results must be a non-empty dict {model name: report of "
            "multilabel_f1_report}."
        )
    for name, report in results.items():
        if not isinstance(report, Mapping) or "entire" not in report:
            raise ValueError(
                f"results[{name!r}] is not a report of multilabel_f1_report "
                "(a dict with an 'entire' entry)."
            )
        for group, scores in report.items():
            if not isinstance(scores, Mapping) or average not in scores:
                raise ValueError(
                    f"results[{name!r}][{group!r}] has no {average!r} score."
                )
    present = {g for report in results.values() for g in report}
    groups = [g for g in _ORDER if g in present]
    groups += sorted(present - set(_ORDER))
    values = np.array(
        [
            [float(report.get(g, {}).get(average, np.nan)) for g in groups]
            for report in results.values()
        ]
    )
    keep = ~np.all(np.isnan(values), axis=0)
    groups = [g for g, k in zip(groups, keep, strict=True) if k]
    values = values[:, keep]

    ax = get_ax(ax, figsize=(1.2 + 1.1 * len(groups) * max(1, len(results)) / 2, 4))
    n_models = len(results)
    width = 0.8 / n_models
    x = np.arange(len(groups))
    for m, name in enumerate(results):
        offset = (m - (n_models - 1) / 2) * width
        heights = values[m]
        shown = ~np.isnan(heights)
        bars = ax.bar(x[shown] + offset, heights[shown], width, label=str(name))
        if annotate:
            ax.bar_label(bars, fmt="%.2f", fontsize="x-small", padding=1)
    ax.set_xticks(x, groups)
    ax.set_ylim(0, 1.2)  # room for the legend above bars at 1
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel(f"{average}-F1")
    ax.set_xlabel("label group")
    ax.legend(loc="upper center", ncols=min(n_models, 4), fontsize="small")
    return ax
