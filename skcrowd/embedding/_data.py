"""The data contract of the triplet estimators: :class:`TripletData`.

A triplet estimator learns from *answers* about triplets of objects, while
the objects themselves (feature vectors, images, or nothing at all) are
shared by all answers. scikit-learn splits and scores ``X`` row by row, so
the rows of ``X`` are the triplets: :class:`TripletData` is a sliceable
container whose rows are the answered triplets (with optional worker ids)
and which carries the object table along, unsliced. ``data[idx]`` selects
triplets and keeps every object, so ``GridSearchCV`` and
``cross_val_score`` split over triplets and an estimator fitted on a split
can still embed any object, unseen ones included.

Nothing here imports torch.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

__all__ = [
    "TripletData",
    "check_triplets",
    "odd_one_out_to_anchor",
    "train_test_split_objects",
]


class TripletData:
    """Answered triplets and the objects they compare, as one sliceable ``X``.

    Each row ``(i, j, k)`` of ``triplets`` is one answer about the objects
    ``i``, ``j`` and ``k`` (indices into ``objects``). What the row means is
    the estimator's ``query`` parameter:

    - ``"odd-one-out"``: the worker judged the pair ``(i, j)`` the most
      similar of the three pairs (``k`` is the odd one out);
    - ``"anchor"``: the worker judged ``i`` closer to ``j`` than to ``k``.

    ``len(data)`` and ``data.shape[0]`` are the number of triplets, and
    indexing (integer arrays, boolean masks, slices) selects triplets, keeping
    ``objects`` (by reference, never copied) and ``n_objects``: this is what
    lets scikit-learn's splitters, ``GridSearchCV`` and ``cross_val_score``
    work over triplets.

    Parameters
    ----------
    triplets : array-like of shape (n_triplets, 3)
        Integer indices of the objects of each answer, ordered as the answer
        (see above).
    objects : array-like of shape (n_objects, ...), default=None
        The objects: feature vectors ``(n_objects, n_features)``, images
        ``(n_objects, channels, height, width)``, or any array whose first
        axis indexes the objects. ``None`` for the transductive setting, where
        objects are known by their index only.
    workers : array-like of shape (n_triplets,), default=None
        The worker who answered each triplet (ints or strings). ``None``: one
        anonymous worker.
    n_objects : int, default=None
        Number of objects when ``objects`` is ``None`` (transductive); by
        default one more than the largest index in ``triplets``. Ignored when
        ``objects`` is given.

    Attributes
    ----------
    triplets : ndarray of shape (n_triplets, 3)
    objects : array-like or None
    workers : ndarray of shape (n_triplets,) or None
    n_objects : int
    shape : tuple
        ``(n_triplets, 3)``.

    See Also
    --------
    train_test_split_objects : Split the *objects*, for the inductive setting.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.embedding import TripletData
    >>> objects = np.eye(4)
    >>> data = TripletData([[0, 1, 2], [1, 2, 3], [0, 3, 2]], objects,
    ...                    workers=["ann", "bob", "ann"])
    >>> len(data), data.n_objects
    (3, 4)
    >>> part = data[[0, 2]]
    >>> part.triplets.tolist(), part.workers.tolist(), part.objects is objects
    ([[0, 1, 2], [0, 3, 2]], ['ann', 'ann'], True)
    """

    def __init__(self, triplets, objects=None, workers=None, *, n_objects=None):
        triplets = np.asarray(triplets)
        if triplets.ndim != 2 or triplets.shape[1] != 3:
            raise ValueError(
                "triplets must be a 2-D array of shape (n_triplets, 3); got shape "
                f"{triplets.shape}."
            )
        if workers is not None:
            workers = np.asarray(workers)
            if workers.ndim != 1 or len(workers) != len(triplets):
                raise ValueError(
                    "workers must be a 1-D array with one worker per triplet; got "
                    f"shape {workers.shape} for {len(triplets)} triplets."
                )
        if objects is not None:
            if not hasattr(objects, "shape") or not hasattr(objects, "__getitem__"):
                objects = np.asarray(objects)
            if len(objects.shape) < 1:
                raise ValueError("objects must have one row per object.")
            n_objects = int(objects.shape[0])
        elif n_objects is not None:
            if not isinstance(n_objects, numbers.Integral) or n_objects < 1:
                raise ValueError(f"n_objects must be a positive int; got {n_objects}.")
            n_objects = int(n_objects)
        elif triplets.size:
            n_objects = _inferred_n_objects(triplets)
        else:
            n_objects = 0
        self.triplets = triplets
        self.objects = objects
        self.workers = workers
        self.n_objects = n_objects

    @property
    def shape(self):
        """``(n_triplets, 3)``: the rows are the triplets."""
        return self.triplets.shape

    @property
    def ndim(self):
        return 2

    def __len__(self):
        return len(self.triplets)

    def __getitem__(self, key):
        # scikit-learn's _safe_indexing indexes with ``X[key, ...]``
        if isinstance(key, tuple):
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError("TripletData is indexed along its triplets only.")
        if isinstance(key, numbers.Integral):
            key = [key]
        elif not isinstance(key, slice):
            key = np.asarray(key)
        return TripletData(
            self.triplets[key],
            self.objects,
            None if self.workers is None else self.workers[key],
            n_objects=self.n_objects,
        )

    def __repr__(self):
        kind = (
            "no object features"
            if self.objects is None
            else f"objects of shape {tuple(self.objects.shape)}"
        )
        workers = "" if self.workers is None else f", {len(np.unique(self.workers))}"
        workers += " workers" if workers else ""
        return (
            f"TripletData({len(self)} triplets over {self.n_objects} objects, "
            f"{kind}{workers})"
        )


def check_triplets(X, *, n_objects=None):
    """Validate the ``X`` of a triplet estimator.

    Parameters
    ----------
    X : TripletData or array-like of shape (n_triplets, 3)
        A :class:`TripletData`, or a plain integer array of triplet rows (the
        transductive setting, without worker ids).
    n_objects : int, default=None
        If given, indices must be below it (the number of objects a fitted
        estimator knows in the transductive setting).

    Returns
    -------
    triplets : ndarray of shape (n_triplets, 3), dtype int64
    objects : array-like or None
    workers : ndarray of shape (n_triplets,) or None
    n_objects : int
        Number of objects of the data.

    Examples
    --------
    >>> from skcrowd.embedding import check_triplets
    >>> triplets, objects, workers, n = check_triplets([[0, 1, 2], [2, 1, 0]])
    >>> triplets.dtype, objects, workers, n
    (dtype('int64'), None, None, 3)
    """
    if sp.issparse(X):
        raise TypeError(
            "Sparse input is not supported: triplets are a dense integer array."
        )
    if isinstance(X, TripletData):
        rows, objects, workers, data_n = X.triplets, X.objects, X.workers, X.n_objects
    else:
        if hasattr(X, "objects") or isinstance(X, dict):
            raise ValueError(
                "X must be a TripletData or an integer array of triplet rows; got "
                f"{type(X).__name__}."
            )
        rows, objects, workers, data_n = X, None, None, None
    try:
        rows = np.asarray(rows)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"Could not read the triplets as an array: {exc}") from exc
    if rows.dtype.kind == "c":
        raise ValueError("Complex data not supported: triplets are object indices.")
    if rows.ndim == 2 and rows.shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={rows.shape}) while a minimum of "
            "3 is required: each row is a triplet of object indices."
        )
    if rows.ndim != 2 or rows.shape[1] != 3:
        raise ValueError(
            "Expected triplets of shape (n_triplets, 3), each row three object "
            f"indices; got shape {rows.shape}. Pass a TripletData to give object "
            "features and worker ids."
        )
    if rows.shape[0] == 0:
        raise ValueError(
            "Found array with 0 sample(s) (shape=(0, 3)) while a minimum of 1 is "
            "required: no triplets."
        )
    if rows.dtype.kind == "b" or rows.dtype.kind not in "iuf":
        raise ValueError(
            f"Triplets must hold integer object indices; got dtype {rows.dtype}."
        )
    if rows.dtype.kind == "f":
        if not np.all(np.isfinite(rows)):
            raise ValueError(
                "Triplets must hold integer object indices; got NaN or inf."
            )
        if not np.all(rows == np.round(rows)):
            raise ValueError(
                "Triplets must hold integer object indices; got non-integer values. "
                "Object features go in TripletData(triplets, objects=...)."
            )
    rows = rows.astype(np.int64)
    if rows.min() < 0:
        raise ValueError("Triplets must hold non-negative object indices.")
    bound = data_n if data_n is not None else None
    if bound is not None and rows.max() >= bound:
        raise ValueError(
            f"Triplet indices must be below the number of objects ({bound}); got "
            f"{rows.max()}."
        )
    if n_objects is not None and rows.max() >= n_objects:
        raise ValueError(
            f"Triplet index {rows.max()} refers to an object the estimator was not "
            f"fitted on (it knows {n_objects} objects; give the objects' features "
            "for an inductive model)."
        )
    same = (
        (rows[:, 0] == rows[:, 1])
        | (rows[:, 0] == rows[:, 2])
        | (rows[:, 1] == rows[:, 2])
    )
    if same.any():
        raise ValueError(
            "Each triplet must name three distinct objects; row "
            f"{int(np.flatnonzero(same)[0])} repeats one."
        )
    if data_n is None:
        data_n = _inferred_n_objects(rows)
    return rows, objects, workers, data_n


#: an inferred number of objects (the largest index + 1) above this, and
#: over 100 times the number of objects the triplets name, is taken for a
#: data error rather than allocated (a transductive model holds an
#: embedding per object)
_MAX_INFERRED_OBJECTS = 1_000_000


def _inferred_n_objects(rows):
    """The number of objects of transductive triplets: the largest index + 1.

    A stray huge index (a typo, an id instead of an index) would make the
    model allocate an embedding for every object up to it; it is rejected
    with a ValueError unless the number of objects is given explicitly.
    """
    n_objects = int(np.max(rows)) + 1
    if n_objects > _MAX_INFERRED_OBJECTS:
        named = len(np.unique(rows))
        if n_objects > 100 * named:
            raise ValueError(
                f"The largest triplet index is {n_objects - 1}, but the triplets "
                f"name only {named} distinct objects: a transductive model would "
                f"hold an embedding for each of {n_objects} objects. Object "
                "indices must run from 0 to the number of objects - 1; if they "
                "do, give that number explicitly: TripletData(triplets, "
                f"n_objects={n_objects})."
            )
    return n_objects


def odd_one_out_to_anchor(triplets, workers=None):
    """Convert odd-one-out answers into anchor answers.

    The answer "``(i, j)`` is the most similar pair of ``(i, j, k)``" implies
    "``i`` is closer to ``j`` than to ``k``" and "``j`` is closer to ``i``
    than to ``k``": each row gives the two anchor rows ``(i, j, k)`` and
    ``(j, i, k)`` (METHODS.md §B.9). This is how the one-map baselines learn
    from odd-one-out data.

    Parameters
    ----------
    triplets : array-like of shape (n_triplets, 3)
        Odd-one-out rows ``(i, j, k)``, ``(i, j)`` the chosen pair.
    workers : array-like of shape (n_triplets,), default=None
        Worker of each row, repeated for both anchor rows.

    Returns
    -------
    anchor : ndarray of shape (2 * n_triplets, 3)
        The rows ``(i, j, k)`` of all triplets, then the rows ``(j, i, k)``.
    workers : ndarray of shape (2 * n_triplets,) or None

    Examples
    --------
    >>> from skcrowd.embedding import odd_one_out_to_anchor
    >>> odd_one_out_to_anchor([[0, 1, 2]])[0].tolist()
    [[0, 1, 2], [1, 0, 2]]
    """
    triplets = np.asarray(triplets)
    if (
        triplets.ndim != 2
        or triplets.shape[1] != 3
        or (triplets.size and triplets.dtype.kind not in "iu")
        or (triplets.size and triplets.min() < 0)
    ):
        raise ValueError(
            "triplets must be an array of shape (n_triplets, 3) of non-negative "
            f"integer object indices; got shape {triplets.shape}, dtype "
            f"{triplets.dtype}."
        )
    anchor = np.concatenate([triplets, triplets[:, [1, 0, 2]]])
    if workers is not None:
        workers = np.asarray(workers)
        if workers.shape != (len(triplets),):
            raise ValueError(
                f"workers must have one entry per triplet ({len(triplets)}); got "
                f"shape {workers.shape}."
            )
        workers = np.concatenate([workers, workers])
    return anchor, workers


def train_test_split_objects(data, *, test_size=0.25, random_state=None):
    """Split the *objects*: triplets among train objects, and among test ones.

    The inductive setting: the objects are drawn into a train and a test
    set, and each triplet goes to the side that holds all three of its
    objects (triplets that mix both sides are dropped). The test data then
    only compares objects that the estimator never saw while training. Both
    parts keep the full object table, so indices stay valid.

    Parameters
    ----------
    data : TripletData
        Triplets with their objects.
    test_size : float, default=0.25
        Fraction of the objects in the test set, in (0, 1).
    random_state : int, RandomState instance or None, default=None
        Seeds the draw of the objects.

    Returns
    -------
    train, test : TripletData
        The triplets among train objects, and those among test objects.
    test_objects : ndarray of int
        Indices of the test objects (sorted).

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.embedding import TripletData, train_test_split_objects
    >>> rng = np.random.RandomState(0)
    >>> rows = np.array([rng.choice(20, 3, replace=False) for _ in range(200)])
    >>> data = TripletData(rows, objects=rng.rand(20, 2))
    >>> train, test, test_objects = train_test_split_objects(
    ...     data, test_size=0.5, random_state=0)
    >>> bool(np.isin(test.triplets, test_objects).all())
    True
    >>> bool(np.isin(train.triplets, test_objects).any())
    False
    """
    if not isinstance(data, TripletData):
        raise ValueError(f"data must be a TripletData; got {type(data).__name__}.")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1); got {test_size}.")
    rng = check_random_state(random_state)
    n_test = max(1, int(round(test_size * data.n_objects)))
    test_objects = np.sort(rng.choice(data.n_objects, n_test, replace=False))
    is_test = np.zeros(data.n_objects, dtype=bool)
    is_test[test_objects] = True
    rows = np.asarray(data.triplets)
    n_test_in_row = is_test[rows].sum(axis=1)
    return data[n_test_in_row == 0], data[n_test_in_row == 3], test_objects
