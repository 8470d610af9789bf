"""Per-view 2-D scatter plots of a multiview embedding.

matplotlib is an optional dependency (the ``plot`` extra); it is imported
when a plot is drawn, never when skcrowd is imported.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_view_embeddings"]


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib: pip install 'skcrowd[plot]'."
        ) from exc
    return plt


def _to_2d(points, method, random_state):
    if points.shape[1] == 2 or method is None:
        if points.shape[1] < 2:
            return np.column_stack([points[:, 0], np.zeros(len(points))])
        return points[:, :2]
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(2, random_state=random_state).fit_transform(points)
    from sklearn.manifold import TSNE

    perplexity = min(30.0, max(2.0, (len(points) - 1) / 3))
    return TSNE(2, perplexity=perplexity, random_state=random_state).fit_transform(
        points
    )


def plot_view_embeddings(
    embedding,
    labels=None,
    *,
    method="pca",
    titles=None,
    label_names=None,
    cmap="tab10",
    palettes=None,
    axes=None,
    point_size=12,
    random_state=None,
):
    """Scatter each view's embedding in 2-D, coloured by a label per view.

    Parameters
    ----------
    embedding : array-like of shape (n_objects, n_views, n_components)
        Per-view embedding (``transform_views`` of a triplet estimator).
    labels : array-like of shape (n_objects,) or (n_objects, n_views), default=None
        Colour of each point: one label for all views, or one column per
        view (e.g. the attribute matched to each view).
    method : {"pca", "tsne"} or None, default="pca"
        Reduction of views with more than 2 components (``None``: the first
        two coordinates).
    titles : list of str, default=None
        One title per view; default ``"view 0"``, ``"view 1"``, ...
    label_names : list of (list of str or None), default=None
        Legend entries per view, indexed by label value.
    cmap : str, default="tab10"
        Matplotlib colour map of the labels.
    palettes : list of (array-like of colours or None), default=None
        Per view, the colour of each label value (indexed by the value), e.g.
        the true tints for a colour view; ``None`` uses ``cmap``.
    axes : array of matplotlib Axes, default=None
        Axes to draw in, one per view; default a new figure with one row.
    point_size : float, default=12
        Marker size.
    random_state : int or None, default=None
        Seeds PCA/t-SNE.

    Returns
    -------
    axes : ndarray of matplotlib Axes
        One per view.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.plotting import plot_view_embeddings
    >>> emb = np.random.RandomState(0).normal(size=(30, 2, 5))
    >>> axes = plot_view_embeddings(emb, labels=np.arange(30) % 3)  # doctest: +SKIP
    """
    embedding = np.asarray(embedding, dtype=np.float64)
    if embedding.ndim != 3:
        raise ValueError(
            "embedding must be (n_objects, n_views, n_components); got "
            f"{embedding.shape}."
        )
    if method not in ("pca", "tsne", None):
        raise ValueError(f"method must be 'pca', 'tsne' or None; got {method!r}.")
    n, n_views = embedding.shape[:2]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 1:
            labels = np.repeat(labels[:, None], n_views, axis=1)
        if labels.shape != (n, n_views):
            raise ValueError(
                "labels must be (n_objects,) or (n_objects, n_views); got "
                f"{labels.shape}."
            )
    # per-view lists: one entry per view, else an IndexError mid-figure
    for name, per_view in (
        ("titles", titles),
        ("label_names", label_names),
        ("palettes", palettes),
    ):
        if per_view is not None and len(per_view) != n_views:
            raise ValueError(
                f"{name} must have one entry per view ({n_views}); got {per_view!r}."
            )
    plt = _import_pyplot()
    if axes is None:
        _, axes = plt.subplots(1, n_views, figsize=(4 * n_views, 4), squeeze=False)
    axes = np.ravel(axes)
    if len(axes) < n_views:
        raise ValueError(f"Need {n_views} axes, got {len(axes)}.")
    for v in range(n_views):
        ax = axes[v]
        xy = _to_2d(embedding[:, v], method, random_state)
        if labels is None:
            ax.scatter(xy[:, 0], xy[:, 1], s=point_size)
        else:
            values = np.unique(labels[:, v])
            colours = plt.get_cmap(cmap)(np.linspace(0, 1, max(len(values), 2)))
            if len(values) <= 10 and cmap == "tab10":
                colours = plt.get_cmap(cmap)(np.arange(len(values)))
            if palettes is not None and palettes[v] is not None:
                colours = [palettes[v][int(value)] for value in values]
            for colour, value in zip(colours, values, strict=False):
                mask = labels[:, v] == value
                name = value
                if label_names is not None and label_names[v] is not None:
                    name = label_names[v][int(value)]
                ax.scatter(
                    xy[mask, 0], xy[mask, 1], s=point_size, color=colour, label=name
                )
            if len(values) <= 10:
                ax.legend(fontsize="x-small", markerscale=1.2, loc="best")
        ax.set_title(titles[v] if titles is not None else f"view {v}")
        ax.set_xticks([])
        ax.set_yticks([])
    return axes[:n_views]
