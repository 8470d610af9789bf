"""Multi-label metrics: head/medium/tail F1, precision@k and NDCG@k.

Long-tailed multi-label benchmarks (Reuters-21578, RCV1, AAPD) report the
scores of the entire label set and of label groups split by how many
training documents carry each label. The grouping follows Huang et al.
(EMNLP 2021): *head* labels have at least 35 training documents, *tail*
labels at most 8 and *medium* labels the rest. The ranking metrics follow
the BBSN code (Zhao, Li & Fukumoto, ICONIP 2022; ``metric.py``), offered as
``variant="bbsn"`` beside the standard definitions.

Every score is a fraction in ``[0, 1]`` (the papers multiply by 100).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import ndcg_score

__all__ = [
    "label_frequency_groups",
    "macro_precision_at_k",
    "multilabel_f1_report",
    "ndcg_at_k",
    "precision_at_k",
]

#: Group names of :func:`label_frequency_groups`, in report order.
LABEL_GROUPS = ("head", "medium", "tail")

_VARIANTS = ("standard", "bbsn")
_GROUP_ROWS = ("all", "with_label")


# ---------------------------------------------------------------- validation
def _check_indicator(Y, name, *, allow_sparse=True):
    """A dense 2-D int8 0/1 indicator matrix of ``Y``; ValueError otherwise."""
    if sp.issparse(Y):
        if not allow_sparse:
            raise ValueError(f"{name} must be dense.")
        Y = Y.toarray()
    Y = np.asarray(Y)
    if Y.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D indicator matrix (n_samples, n_labels); got "
            f"shape {Y.shape}."
        )
    if Y.shape[0] == 0 or Y.shape[1] == 0:
        raise ValueError(f"{name} is empty: got shape {Y.shape}.")
    if Y.dtype.kind == "b":
        return Y.astype(np.int8)
    if Y.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must be a numeric 0/1 indicator matrix; got dtype {Y.dtype}."
        )
    binary = (Y == 0) | (Y == 1)
    if not binary.all():
        bad = np.unique(Y[~binary])[:5]
        raise ValueError(
            f"{name} must be a binary indicator matrix (0/1 only); found values "
            f"{bad.tolist()}. Threshold scores first (e.g. scores >= 0.5)."
        )
    return Y.astype(np.int8)


def _check_scores(scores, n_shape):
    if sp.issparse(scores):
        scores = scores.toarray()
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != n_shape:
        raise ValueError(
            f"scores has shape {scores.shape}, Y_true has {n_shape}: give one "
            "score per item and label."
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contains NaN or infinity.")
    return scores


def _check_k(k, n_labels):
    if not isinstance(k, Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int; got {k!r}.")
    if k > n_labels:
        raise ValueError(f"k={k} exceeds the number of labels ({n_labels}).")
    return int(k)


def _check_variant(variant):
    if variant not in _VARIANTS:
        raise ValueError(f"variant must be one of {list(_VARIANTS)}; got {variant!r}.")


def _top_k(scores, k):
    """Column indices of the k highest scores per row, best first.

    Ties go to the lower column index (a stable sort of ``-scores``).
    """
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def _top_k_hits(Y_true, scores, k, variant):
    """(top-k columns, hit mask, rows kept) shared by the precision metrics."""
    _check_variant(variant)
    Y_true = _check_indicator(Y_true, "Y_true")
    scores = _check_scores(scores, Y_true.shape)
    k = _check_k(k, Y_true.shape[1])
    if variant == "bbsn":  # metric.py skips the items without any true label
        rows = np.flatnonzero(Y_true.any(axis=1))
        if len(rows) == 0:
            raise ValueError(
                "No item of Y_true has a true label: the 'bbsn' variant averages "
                "over items with at least one."
            )
        Y_true, scores = Y_true[rows], scores[rows]
    top = _top_k(scores, k)
    hits = np.take_along_axis(Y_true, top, axis=1) == 1
    if variant == "bbsn":  # a hit counts only if the label is predicted
        hits &= np.take_along_axis(scores, top, axis=1) >= 0.5
    return top, hits, Y_true.shape[1]


# ------------------------------------------------------------------- groups
def label_frequency_groups(Y_train, *, head=35, tail=8):
    """Split the labels into head, medium and tail by training frequency.

    A label carried by at least ``head`` training documents is ``"head"``,
    by at most ``tail`` documents ``"tail"``, and otherwise ``"medium"``.
    The defaults are those of Huang et al., "Balancing methods for
    multi-label text classification with long-tailed class distribution",
    EMNLP 2021 (head >= 35, medium 9-34, tail <= 8), used for Reuters-21578.

    Parameters
    ----------
    Y_train : {array-like, sparse matrix} of shape (n_samples, n_labels)
        The binary indicator matrix of the training labels.
    head : int, default=35
        Minimum number of training documents of a head label.
    tail : int, default=8
        Maximum number of training documents of a tail label; must be below
        ``head``.

    Returns
    -------
    groups : ndarray of str of shape (n_labels,)
        ``"head"``, ``"medium"`` or ``"tail"`` for each label (column).

    Raises
    ------
    ValueError
        If ``Y_train`` is not a 2-D 0/1 matrix or ``tail >= head``.

    See Also
    --------
    multilabel_f1_report : F1 of the entire label set and of each group.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import label_frequency_groups
    >>> Y_train = np.zeros((40, 3), dtype=int)
    >>> Y_train[:, 0] = 1    # 40 documents
    >>> Y_train[:20, 1] = 1  # 20 documents
    >>> Y_train[:8, 2] = 1   # 8 documents
    >>> label_frequency_groups(Y_train)
    array(['head', 'medium', 'tail'], dtype='<U6')
    """
    for value, name in ((head, "head"), (tail, "tail")):
        if not isinstance(value, Integral) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative int; got {value!r}.")
    if tail >= head:
        raise ValueError(
            f"tail={tail} must be below head={head}: a label cannot be both."
        )
    if sp.issparse(Y_train):
        Y_check = Y_train.tocsr()
        data = Y_check.data
        if not np.all((data == 0) | (data == 1)):
            raise ValueError(
                "Y_train must be a binary indicator matrix (0/1 only); found "
                f"values {np.unique(data[(data != 0) & (data != 1)])[:5].tolist()}."
            )
        counts = np.asarray(Y_check.sum(axis=0)).ravel()
    else:
        counts = _check_indicator(Y_train, "Y_train").sum(axis=0, dtype=np.int64)
    groups = np.full(len(counts), "medium", dtype="<U6")
    groups[counts >= head] = "head"
    groups[counts <= tail] = "tail"
    return groups


def _check_groups(groups, n_labels):
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n_labels:
        raise ValueError(
            f"groups must give one group name per label ({n_labels}); got shape "
            f"{groups.shape}."
        )
    return groups.astype(str)


def multilabel_f1_report(
    Y_true, Y_pred, *, groups=None, group_rows="all", zero_division=0.0
):
    """Micro- and macro-F1 of the entire label set and of each label group.

    ``"entire"`` scores all the labels. With ``groups`` (e.g. from
    :func:`label_frequency_groups`), each group is scored on its own label
    columns only: macro-F1 averages the F1 of the group's labels, micro-F1
    pools their true/false positives.

    Which documents (rows) a group score uses is ``group_rows``:

    - ``"all"`` (default): every document. A document without any label of
      the group still counts, through its false positives on the group's
      labels: predicting a tail label for a document that has none lowers
      the tail score.
    - ``"with_label"``: only the documents with at least one true label of
      the group, as the BBSN code scores its tail set (Zhao, Li & Fukumoto,
      ICONIP 2022: "only the test documents that have at least one tail
      label"). False positives on documents outside that set are ignored,
      so this variant is more lenient.

    The ``"entire"`` scores always use every document.

    Parameters
    ----------
    Y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        True binary indicator matrix.
    Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Predicted binary indicator matrix (threshold the scores first; the
        BBSN protocol uses ``proba >= 0.5``).
    groups : array-like of str of shape (n_labels,), default=None
        Group name of each label. ``None`` reports ``"entire"`` only.
    group_rows : {"all", "with_label"}, default="all"
        The documents a group score uses (see above).
    zero_division : {0.0, 1.0, np.nan}, default=0.0
        F1 of a label with no true and no predicted positive, as in
        :func:`sklearn.metrics.f1_score` (NaN leaves such labels out of
        macro-F1). The default 0 is scikit-learn's
        (and BBSN's): a tail label absent from the test set and never
        predicted lowers macro-F1.

    Returns
    -------
    report : dict
        ``{"entire": {"micro": float, "macro": float}, ...}``, then, with
        ``groups``, one such entry for ``"head"``, ``"medium"`` and ``"tail"``
        (always present, NaN when the group has no label or, with
        ``group_rows="with_label"``, no document) and for any other group
        name in ``groups``, in sorted order.

    Raises
    ------
    ValueError
        If the matrices are not 0/1, their shapes differ, ``groups`` has the
        wrong length or ``group_rows`` is unknown.

    See Also
    --------
    label_frequency_groups : The head/medium/tail split of Huang et al.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import multilabel_f1_report
    >>> Y_true = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]])
    >>> Y_pred = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 1], [1, 0, 1]])
    >>> report = multilabel_f1_report(Y_true, Y_pred,
    ...                               groups=["head", "medium", "tail"])
    >>> report["entire"]
    {'micro': 0.8, 'macro': 0.555...}
    >>> report["tail"]  # one hit, one false positive on the last document
    {'micro': 0.666..., 'macro': 0.666...}
    >>> multilabel_f1_report(Y_true, Y_pred, groups=["head", "medium", "tail"],
    ...                      group_rows="with_label")["tail"]
    {'micro': 1.0, 'macro': 1.0}
    """
    if group_rows not in _GROUP_ROWS:
        raise ValueError(
            f"group_rows must be one of {list(_GROUP_ROWS)}; got {group_rows!r}."
        )
    Y_true = _check_indicator(Y_true, "Y_true")
    Y_pred = _check_indicator(Y_pred, "Y_pred")
    if Y_true.shape != Y_pred.shape:
        raise ValueError(
            f"Y_true has shape {Y_true.shape} but Y_pred has {Y_pred.shape}."
        )

    zero_division = _check_zero_division(zero_division)

    def scores(rows, cols):
        if len(cols) == 0 or len(rows) == 0:
            return {"micro": np.nan, "macro": np.nan}
        t = Y_true[np.ix_(rows, cols)].astype(bool)
        p = Y_pred[np.ix_(rows, cols)].astype(bool)
        # per label: 2 TP and 2 TP + FP + FN (scikit-learn's f1_score would
        # read a single column as a binary target and average both classes)
        tp2 = 2.0 * (t & p).sum(axis=0)
        denom = t.sum(axis=0) + p.sum(axis=0)
        return {
            "micro": _f1(tp2.sum(), denom.sum(), zero_division),
            "macro": _mean(_f1(tp2, denom, zero_division)),
        }

    all_rows = np.arange(Y_true.shape[0])
    report = {"entire": scores(all_rows, np.arange(Y_true.shape[1]))}
    if groups is None:
        return report
    groups = _check_groups(groups, Y_true.shape[1])
    names = list(LABEL_GROUPS) + sorted(set(groups) - set(LABEL_GROUPS) - {"entire"})
    if "entire" in set(groups):
        raise ValueError("'entire' is reserved for the whole label set; rename it.")
    for name in names:
        cols = np.flatnonzero(groups == name)
        rows = all_rows
        if group_rows == "with_label" and len(cols):
            rows = np.flatnonzero(Y_true[:, cols].any(axis=1))
        report[name] = scores(rows, cols)
    return report


def _check_zero_division(value):
    if value in (0, 1) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, float) and np.isnan(value):
        return value
    raise ValueError(f"zero_division must be 0.0, 1.0 or np.nan; got {value!r}.")


def _f1(tp2, denom, zero_division):
    """F1 = 2 TP / (2 TP + FP + FN), ``zero_division`` where that is 0 / 0."""
    tp2, denom = np.asarray(tp2, dtype=np.float64), np.asarray(denom)
    f1 = np.divide(tp2, denom, out=np.full(tp2.shape, zero_division), where=denom > 0)
    return float(f1) if f1.ndim == 0 else f1


def _mean(values):
    """Mean, leaving NaN out (as scikit-learn does for ``zero_division=nan``)."""
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else np.nan


# ------------------------------------------------------------------ ranking
def precision_at_k(Y_true, scores, k=1, *, variant="standard"):
    """Precision at k: the share of the k top-scored labels that are true.

    - ``variant="standard"``: the usual extreme-classification definition,
      ``mean_i |top_k(i) & true(i)| / k`` over every document (a document
      without any true label scores 0).
    - ``variant="bbsn"``: as the BBSN code (``metric_micro_precision``):
      only the documents with at least one true label, and a top-k label is
      a hit only if it is true **and** its score is at least 0.5 (the label
      is predicted). Meant for probabilities.

    Ties among scores go to the lower label index.

    Parameters
    ----------
    Y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        True binary indicator matrix.
    scores : array-like of shape (n_samples, n_labels)
        Label scores (probabilities for the ``"bbsn"`` variant).
    k : int, default=1
        Number of top labels, at most ``n_labels``.
    variant : {"standard", "bbsn"}, default="standard"
        The definition (see above).

    Returns
    -------
    precision : float
        In ``[0, 1]``.

    See Also
    --------
    macro_precision_at_k : The per-label (macro) version.
    ndcg_at_k : A rank-discounted score of the top k.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import precision_at_k
    >>> Y_true = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]])
    >>> scores = np.array([[0.9, 0.6, 0.4], [0.3, 0.2, 0.1], [0.5, 0.2, 0.1]])
    >>> precision_at_k(Y_true, scores, k=2)  # (1 + 1 + 0) / (2 * 3)
    0.333...
    >>> # document 2 (no true label) is dropped, and document 1's hit
    >>> # scores 0.2 < 0.5: 1 / (2 * 2)
    >>> precision_at_k(Y_true, scores, k=2, variant="bbsn")
    0.25
    """
    _, hits, _ = _top_k_hits(Y_true, scores, k, variant)
    return float(hits.mean())


def macro_precision_at_k(Y_true, scores, k=1, *, variant="standard"):
    """Per-label precision at k, averaged over the labels ever ranked top k.

    For each label, the number of documents whose top k holds it *and* where
    it is true, divided by the number of documents whose top k holds it;
    the mean over the labels that appear in at least one top k (the others
    have no precision and are left out). This is ``metric_macro_precision``
    of the BBSN code.

    - ``variant="standard"``: every document; a top-k label is a hit when
      it is true.
    - ``variant="bbsn"``: only the documents with at least one true label,
      and a hit also needs a score of at least 0.5, as in the BBSN code.

    Ties among scores go to the lower label index.

    Parameters
    ----------
    Y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        True binary indicator matrix.
    scores : array-like of shape (n_samples, n_labels)
        Label scores.
    k : int, default=1
        Number of top labels, at most ``n_labels``.
    variant : {"standard", "bbsn"}, default="standard"
        The definition (see above).

    Returns
    -------
    precision : float
        In ``[0, 1]``.

    See Also
    --------
    precision_at_k : The pooled (micro) version.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import macro_precision_at_k
    >>> Y_true = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]])
    >>> scores = np.array([[0.9, 0.6, 0.4], [0.3, 0.2, 0.1], [0.5, 0.2, 0.1]])
    >>> # top 1: label 0 three times (1 hit); labels 1, 2 never ranked
    >>> macro_precision_at_k(Y_true, scores, k=1)
    0.333...
    >>> # top 2: label 0 1/3, label 1 1/3 (document 1's hit has score < 0.5
    >>> # but counts here); label 2 never ranked
    >>> macro_precision_at_k(Y_true, scores, k=2)
    0.333...
    >>> # bbsn: document 2 is dropped, document 1's hit scores 0.2 < 0.5
    >>> macro_precision_at_k(Y_true, scores, k=2, variant="bbsn")
    0.25
    """
    top, hits, n_labels = _top_k_hits(Y_true, scores, k, variant)
    ranked = np.bincount(top.ravel(), minlength=n_labels)
    hit = np.bincount(top.ravel(), weights=hits.ravel(), minlength=n_labels)
    seen = ranked > 0
    return float(np.mean(hit[seen] / ranked[seen]))


def ndcg_at_k(Y_true, scores, k=3):
    """Normalised discounted cumulative gain of the top k labels.

    :func:`sklearn.metrics.ndcg_score` on the raw scores with the binary
    relevance ``Y_true``, as the BBSN evaluation script does: the DCG of the
    k top-scored labels, ``sum_j Y[i, l_j] / log2(j + 1)``, divided by that
    of the ideal ranking, averaged over the documents. A document without
    any true label scores 0. Tied scores share their gain (scikit-learn's
    ``ignore_ties=False``).

    Parameters
    ----------
    Y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        True binary indicator matrix.
    scores : array-like of shape (n_samples, n_labels)
        Label scores.
    k : int, default=3
        Number of top labels, at most ``n_labels``.

    Returns
    -------
    ndcg : float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import ndcg_at_k
    >>> Y_true = np.array([[1, 0, 1], [0, 1, 0]])
    >>> scores = np.array([[0.9, 0.6, 0.4], [0.3, 0.2, 0.1]])
    >>> # (1 + 0 / log2(3)) / (1 + 1 / log2(3)) and (0 + 1 / log2(3)) / 1
    >>> ndcg_at_k(Y_true, scores, k=2)
    0.6...
    """
    Y_true = _check_indicator(Y_true, "Y_true")
    scores = _check_scores(scores, Y_true.shape)
    k = _check_k(k, Y_true.shape[1])
    if Y_true.shape[1] == 1:
        raise ValueError("ndcg_at_k needs at least 2 labels to rank.")
    return float(ndcg_score(Y_true, scores, k=k))
