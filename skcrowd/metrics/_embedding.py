"""Metrics for embeddings learned from triplets (METHODS.md §B.7, §F.6).

- :func:`triplet_accuracy`: agreement of one map with answered triplets;
- :func:`clustering_purity` and :func:`view_attribute_scores`: k-means or
  agglomerative clustering of every view, scored (purity, NMI) against every
  known attribute, with the best matching of views to attributes;
- :func:`linear_probe_accuracy`: a linear classifier on the embedding whose
  regularisation is selected on a validation set, never on the test set.

Nothing here imports torch.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.utils import Bunch, check_random_state

from ..utils.validation import _check_int

__all__ = [
    "clustering_purity",
    "linear_probe_accuracy",
    "triplet_accuracy",
    "view_attribute_scores",
]

_PAIRS = {"odd-one-out": ((0, 1), (0, 2), (1, 2)), "anchor": ((0, 1), (0, 2))}


def triplet_accuracy(embedding, triplets, *, query="odd-one-out"):
    """Fraction of answered triplets that one Euclidean map agrees with.

    A row ``(i, j, k)`` agrees when its answer's pair is strictly the closest
    of the query's pairs: ``(i, j)`` closer than ``(i, k)`` and ``(j, k)``
    for odd-one-out answers, ``i`` closer to ``j`` than to ``k`` for anchor
    answers. Ties do not agree. (A fitted triplet estimator's ``score`` is the
    same accuracy under its own model.)

    Parameters
    ----------
    embedding : array-like of shape (n_objects, n_components)
        One vector per object.
    triplets : array-like of shape (n_triplets, 3)
        Answer rows, indices into ``embedding``.
    query : {"odd-one-out", "anchor"}, default="odd-one-out"
        What a row answers.

    Returns
    -------
    accuracy : float

    Examples
    --------
    >>> from skcrowd.metrics import triplet_accuracy
    >>> emb = [[0.0], [0.1], [1.0]]
    >>> triplet_accuracy(emb, [[0, 1, 2], [0, 2, 1]], query="anchor")
    0.5
    """
    embedding = np.asarray(embedding, dtype=np.float64)
    triplets = np.asarray(triplets)
    if embedding.ndim != 2:
        raise ValueError(
            f"embedding must be 2-D (objects x components); got {embedding.shape}."
        )
    if triplets.ndim != 2 or triplets.shape[1] != 3 or triplets.dtype.kind not in "iu":
        raise ValueError("triplets must be an integer array of shape (n, 3).")
    if query not in _PAIRS:
        raise ValueError(f"query must be 'odd-one-out' or 'anchor'; got {query!r}.")
    if len(triplets) == 0:
        raise ValueError("triplets is empty: the accuracy of no triplet is undefined.")
    if not np.all(np.isfinite(embedding)):
        raise ValueError("embedding contains NaN or infinity.")
    if triplets.min() < 0 or triplets.max() >= len(embedding):
        raise ValueError("triplets index objects outside the embedding.")
    dist = np.stack(
        [
            np.linalg.norm(
                embedding[triplets[:, a]] - embedding[triplets[:, b]], axis=1
            )
            for a, b in _PAIRS[query]
        ],
        axis=1,
    )
    return float(np.mean(np.all(dist[:, :1] < dist[:, 1:], axis=1)))


def clustering_purity(labels_true, labels_pred):
    """Purity: each cluster counts its most frequent true label.

    Parameters
    ----------
    labels_true : array-like of shape (n,)
    labels_pred : array-like of shape (n,)

    Returns
    -------
    purity : float
        In (0, 1]; 1 when every cluster holds one true label.

    Examples
    --------
    >>> from skcrowd.metrics import clustering_purity
    >>> clustering_purity([0, 0, 1, 1], [5, 5, 5, 7])
    0.75
    """
    labels_true, labels_pred = np.asarray(labels_true), np.asarray(labels_pred)
    if labels_true.ndim != 1 or labels_pred.ndim != 1:
        # np.unique flattens: a 2-D input gave a purity above 1
        raise ValueError(
            "labels_true and labels_pred must be 1-D; got shapes "
            f"{labels_true.shape} and {labels_pred.shape}."
        )
    _, true = np.unique(labels_true, return_inverse=True)
    _, pred = np.unique(labels_pred, return_inverse=True)
    if len(true) != len(pred) or len(true) == 0:
        raise ValueError("labels_true and labels_pred must be non-empty, same length.")
    table = np.zeros((pred.max() + 1, true.max() + 1), dtype=np.int64)
    np.add.at(table, (pred, true), 1)
    return float(table.max(axis=1).sum() / len(true))


def view_attribute_scores(
    embedding, attributes, *, method="kmeans", n_clusters=None, random_state=None
):
    """Cluster every view; score each against every attribute; match them.

    Each view's embedding is clustered (into as many clusters as the
    attribute has values, unless ``n_clusters``) and compared with each
    attribute by NMI and purity. Views are then matched one-to-one to the
    attributes to maximise the total NMI (Hungarian algorithm), since the
    order of learned views is arbitrary.

    Parameters
    ----------
    embedding : array-like of shape (n_objects, n_views, n_components)
        Per-view embedding, e.g. ``MultiviewTripletEmbedder.transform_views``.
    attributes : array-like of shape (n_objects, n_attributes)
        Known attributes (e.g. digit and colour).
    method : {"kmeans", "agglomerative"}, default="kmeans"
        Clustering (Ward linkage for agglomerative).
    n_clusters : int, default=None
        Number of clusters; ``None``: the number of values of the attribute.
    random_state : int, RandomState instance or None, default=None
        Seeds k-means.

    Returns
    -------
    scores : Bunch
        ``nmi`` and ``purity``: ``(n_views, n_attributes)``; ``matching``:
        ``(n_attributes,)`` the view matched to each attribute (``-1`` for
        an attribute left without a view); ``matched_nmi`` and
        ``matched_purity``: ``(n_attributes,)``, the scores of that match.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import view_attribute_scores
    >>> attributes = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5)
    >>> emb = np.stack([attributes[:, ::-1], attributes[:, ::-1]], axis=2) * 1.0
    >>> scores = view_attribute_scores(emb, attributes, random_state=0)
    >>> scores.matching.tolist(), scores.matched_nmi.round(2).tolist()
    ([1, 0], [1.0, 1.0])
    """
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.metrics import normalized_mutual_info_score

    embedding = np.asarray(embedding, dtype=np.float64)
    attributes = np.asarray(attributes)
    if embedding.ndim != 3:
        raise ValueError(
            "embedding must be (n_objects, n_views, n_components); got "
            f"{embedding.shape}."
        )
    if attributes.ndim == 1:
        attributes = attributes[:, None]
    if attributes.ndim != 2 or len(attributes) != len(embedding):
        raise ValueError("attributes must be (n_objects, n_attributes).")
    if method not in ("kmeans", "agglomerative"):
        raise ValueError(f"method must be 'kmeans' or 'agglomerative'; got {method!r}.")
    if n_clusters is not None:
        n_clusters = _check_int(n_clusters, "n_clusters", 1)
    if len(embedding) == 0:
        raise ValueError("embedding is empty: there is no object to cluster.")
    rng = check_random_state(random_state)
    n_views, n_attr = embedding.shape[1], attributes.shape[1]
    nmi = np.zeros((n_views, n_attr))
    purity = np.zeros((n_views, n_attr))
    for a in range(n_attr):
        k = len(np.unique(attributes[:, a])) if n_clusters is None else n_clusters
        for v in range(n_views):
            if method == "kmeans":
                seed = int(rng.randint(np.iinfo(np.int32).max))
                model = KMeans(k, n_init=4, random_state=seed)
            else:
                model = AgglomerativeClustering(k)
            labels = model.fit_predict(embedding[:, v])
            nmi[v, a] = normalized_mutual_info_score(attributes[:, a], labels)
            purity[v, a] = clustering_purity(attributes[:, a], labels)
    views, attrs = linear_sum_assignment(-nmi)
    matching = np.full(n_attr, -1)
    matching[attrs] = views
    matched_nmi = np.array(
        [nmi[v, a] if v >= 0 else np.nan for a, v in enumerate(matching)]
    )
    matched_purity = np.array(
        [purity[v, a] if v >= 0 else np.nan for a, v in enumerate(matching)]
    )
    return Bunch(
        nmi=nmi,
        purity=purity,
        matching=matching,
        matched_nmi=matched_nmi,
        matched_purity=matched_purity,
    )


def linear_probe_accuracy(
    X_train, y_train, X_val, y_val, X_test, y_test, *, Cs=(0.01, 0.1, 1.0, 10.0, 100.0)
):
    """Test accuracy of a linear probe whose strength is chosen on validation.

    A (standardised) logistic regression is trained on the train embedding
    for each ``C`` in ``Cs``; the ``C`` with the best *validation* accuracy
    is kept and only that model is scored on the test set. (The original
    evaluation code reported the best test accuracy over its training epochs,
    an optimistic selection on the test set, METHODS.md §B.7.)

    Parameters
    ----------
    X_train, X_val, X_test : array-like of shape (n, n_features)
        Embeddings of the three object sets.
    y_train, y_val, y_test : array-like of shape (n,)
        Their labels.
    Cs : sequence of float, default=(0.01, 0.1, 1.0, 10.0, 100.0)
        Inverse regularisation strengths to choose from.

    Returns
    -------
    result : Bunch
        ``test_accuracy``, ``best_C``, ``val_accuracy`` (per ``C``, a dict).

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import linear_probe_accuracy
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat([0, 1], 30)
    >>> X = y[:, None] + rng.normal(scale=0.3, size=(60, 2))
    >>> res = linear_probe_accuracy(X[::3], y[::3], X[1::3], y[1::3],
    ...                             X[2::3], y[2::3])
    >>> res.test_accuracy > 0.9
    True
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(Cs) == 0:
        raise ValueError("Cs must hold at least one value.")
    val_accuracy = {}
    best, best_C, best_acc = None, None, -np.inf
    for C in Cs:
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
        model.fit(X_train, y_train)
        acc = model.score(X_val, y_val)
        val_accuracy[C] = float(acc)
        if acc > best_acc:
            best, best_C, best_acc = model, C, acc
    return Bunch(
        test_accuracy=float(best.score(X_test, y_test)),
        best_C=best_C,
        val_accuracy=val_accuracy,
    )
