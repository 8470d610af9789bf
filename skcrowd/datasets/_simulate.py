"""Simulated crowds: synthetic workers labelling synthetic or real items.

Each simulated worker ``r`` has a confusion matrix ``confusion[r]`` of shape
``(n_classes, n_classes)``: row ``k`` is the distribution of the label the
worker gives to an item whose true class is ``k``. Items are labelled by
``labels_per_item`` distinct workers drawn uniformly at random, and each label
is drawn from the worker's confusion row of the item's true class. With
``instance_dependent > 0`` a worker is also worse in one region of the feature
space, where their labels drift toward chance.

Everything is vectorised over labels (no Python loop over items), and the
sparse output never allocates a dense ``n_samples x n_workers`` array.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.utils import Bunch, check_array, check_random_state

from ..utils.validation import _check_int, is_missing_label

__all__ = ["WORKER_PROFILES", "make_crowd_classification", "simulate_crowd"]

#: Names of the worker profiles understood by the simulators.
WORKER_PROFILES = (
    "reliable",
    "uniform_spammer",
    "constant_spammer",
    "adversarial",
    "confusion",
)

# steepness of the sigmoid that maps a worker's (standardised) projection of
# an item onto their weak direction to the item's "weakness" in [0, 1]
_STEEPNESS = 3.0
# above this many labels per item, pick workers by partial argsort of random
# keys instead of Floyd's algorithm (whose cost grows as labels_per_item**2)
_FLOYD_MAX = 16
_CHUNK = 1 << 16


# ---------------------------------------------------------------- validation
def _check_instance_dependent(value):
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ValueError(
            f"instance_dependent must be a float in [0, 1]; got {value!r}."
        )
    return float(value)


def _resolve_profiles(worker_profiles, n_workers, rng, known=WORKER_PROFILES):
    """The profile name of each worker, shape (n_workers,), among ``known``."""
    if worker_profiles is None:
        names = ["reliable"] * n_workers
    elif isinstance(worker_profiles, str):
        names = [worker_profiles] * n_workers
    elif isinstance(worker_profiles, Mapping):
        keys = list(worker_profiles)
        _check_profile_names(keys, known)
        try:
            fractions = np.array([float(worker_profiles[k]) for k in keys])
        except (TypeError, ValueError):
            raise ValueError(
                "worker_profiles as a dict maps profile names to fractions of "
                f"workers (floats); got {worker_profiles!r}."
            ) from None
        if (
            len(keys) == 0
            or not np.all(np.isfinite(fractions))
            or np.any(fractions < 0)
            or not np.isclose(fractions.sum(), 1.0)
        ):
            raise ValueError(
                "The fractions in worker_profiles must be non-negative and sum "
                f"to 1; got {worker_profiles!r}."
            )
        # largest-remainder rounding: the counts sum to n_workers exactly
        raw = fractions * n_workers
        counts = np.floor(raw).astype(np.int64)
        short = n_workers - counts.sum()
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:short]] += 1
        names = list(np.repeat(np.array(keys, dtype=object), counts))
        names = [names[i] for i in rng.permutation(n_workers)]
    else:
        try:
            names = list(worker_profiles)
        except TypeError:
            raise ValueError(
                "worker_profiles must be None, a profile name, a list of one "
                "profile name per worker or a dict {profile: fraction}; got "
                f"{worker_profiles!r}."
            ) from None
        if len(names) != n_workers:
            raise ValueError(
                f"worker_profiles lists {len(names)} profiles but n_workers="
                f"{n_workers}: give one profile name per worker."
            )
    _check_profile_names(names, known)
    return np.array([str(n) for n in names], dtype=object)


def _check_profile_names(names, known=WORKER_PROFILES):
    # a non-string (e.g. a confusion matrix) made ``n not in known`` ambiguous
    unknown = sorted(
        {str(n)[:40] for n in names if not isinstance(n, str) or n not in known}
    )
    if unknown:
        raise ValueError(
            f"Unknown worker profile(s) {unknown}; known profiles are "
            f"{list(known)}."
        )


def _encode_y_true(y_true, classes):
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be 1-D; got shape {y_true.shape}.")
    if y_true.shape[0] == 0:
        raise ValueError("y_true is empty: at least one item is required.")
    if is_missing_label(y_true).any():
        raise ValueError("y_true contains missing values (NaN/None): every item "
                         "needs its true class.")
    try:
        observed = np.unique(y_true)
        if classes is None:
            classes = observed
        else:
            classes = np.unique(np.asarray(classes))
    except TypeError as exc:
        raise ValueError(f"Labels cannot be compared and sorted: {exc}") from None
    if classes.ndim != 1:
        raise ValueError("classes must be 1-D.")
    if len(classes) < 2:
        raise ValueError(
            f"A crowd needs at least 2 classes; got {classes.tolist()}. Pass "
            "classes= to name the classes the workers may answer."
        )
    codes = np.clip(np.searchsorted(classes, y_true), 0, len(classes) - 1)
    unknown = classes[codes] != y_true
    if np.any(unknown):
        raise ValueError(
            f"y_true holds labels not among classes {classes.tolist()}: "
            f"{np.unique(y_true[unknown])[:10].tolist()}"
        )
    return codes.astype(np.int64), classes


# ------------------------------------------------------------------- workers
def _worker_confusions(profiles, n_classes, rng):
    """Confusion matrices (n_workers, K, K), rows = true class, cols = label."""
    K = n_classes
    n_workers = len(profiles)
    conf = np.empty((n_workers, K, K))
    diag = np.eye(K, dtype=bool)

    def reliable(n, low, high):
        acc = rng.uniform(low, high, size=n)
        # the errors of each row spread over the wrong classes (Dirichlet(2))
        err = rng.gamma(2.0, size=(n, K, K))
        err[:, diag] = 0.0
        err /= err.sum(axis=2, keepdims=True)
        c = err * (1.0 - acc)[:, None, None]
        c[:, diag] = acc[:, None]
        return c

    # one block of draws per profile, in WORKER_PROFILES order
    for profile in WORKER_PROFILES:
        idx = np.flatnonzero(profiles == profile)
        n = len(idx)
        if n == 0:
            continue
        if profile == "reliable":
            conf[idx] = reliable(n, 0.7, 0.95)
        elif profile == "uniform_spammer":
            conf[idx] = 1.0 / K
        elif profile == "constant_spammer":
            label = rng.randint(0, K, size=n)
            c = np.zeros((n, K, K))
            c[np.arange(n), :, label] = 1.0
            conf[idx] = c
        elif profile == "adversarial":
            # right with probability below chance, otherwise a fixed shift
            acc = rng.uniform(0.1, 0.6, size=n) / K
            shift = rng.randint(1, K, size=n)
            k = np.arange(K)
            c = np.zeros((n, K, K))
            c[:, k, k] = acc[:, None]
            c[np.arange(n)[:, None], k, (k + shift[:, None]) % K] = (1.0 - acc)[
                :, None
            ]
            conf[idx] = c
        else:  # "confusion"
            c = reliable(n, 0.8, 0.95)
            # max(1, K // 3) disjoint class pairs (a, b): a is often taken
            # for b, b a little less often for a
            perm = np.argsort(rng.random_sample((n, K)), axis=1)
            n_pairs = max(1, K // 3)
            moved = rng.uniform(size=(n, n_pairs, 2)) * [0.2, 0.15] + [0.25, 0.0]
            rows = np.arange(n)
            for j in range(n_pairs):
                a, b = perm[:, 2 * j], perm[:, 2 * j + 1]
                for src, dst, p in ((a, b, moved[:, j, 0]), (b, a, moved[:, j, 1])):
                    c[rows, src] *= (1.0 - p)[:, None]
                    c[rows, src, dst] += p
            conf[idx] = c
    return conf


def _assign_workers(n_samples, n_workers, labels_per_item, rng):
    """Sorted distinct workers of each item, shape (n_samples, labels_per_item)."""
    m = labels_per_item
    if m <= _FLOYD_MAX:
        # Floyd's algorithm, vectorised over items: a uniform m-subset
        chosen = np.empty((n_samples, m), dtype=np.int64)
        for k, j in enumerate(range(n_workers - m, n_workers)):
            t = rng.randint(0, j + 1, size=n_samples)
            taken = (chosen[:, :k] == t[:, None]).any(axis=1)
            chosen[:, k] = np.where(taken, j, t)
    else:
        # the m smallest of n_workers random keys, a block of items at a time
        chosen = np.empty((n_samples, m), dtype=np.int64)
        step = max(1, (1 << 22) // n_workers)
        for start in range(0, n_samples, step):
            stop = min(start + step, n_samples)
            keys = rng.random_sample((stop - start, n_workers))
            chosen[start:stop] = np.argpartition(keys, m - 1, axis=1)[:, :m]
    chosen.sort(axis=1)
    return chosen


def _sample_rows(conf, row, rng):
    """One draw from row ``row[j]`` of ``conf`` (stacked, shape (R, K)) per j."""
    n_rows, K = conf.shape
    cum = np.cumsum(conf, axis=1)
    cum[:, -1] = 1.0
    # offset row r by r: one increasing array, one searchsorted for all draws
    flat = (cum + np.arange(n_rows)[:, None]).ravel()
    u = rng.random_sample(len(row))
    code = np.searchsorted(flat, row + u, side="right") - row * K
    return np.clip(code, 0, K - 1)


def _weakness(X, item, worker, n_workers, rng):
    """Per-label weakness in [0, 1] from each worker's random direction."""
    n_features = X.shape[1]
    direction = rng.standard_normal((n_workers, n_features))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    offset = rng.normal(0.0, 0.5, size=n_workers)
    scale = X.std(axis=0)
    scale[~(scale > 0)] = 1.0
    v = direction / scale  # direction in the standardised feature space
    z = np.empty(len(item))
    for start in range(0, len(item), _CHUNK):
        sl = slice(start, start + _CHUNK)
        z[sl] = np.einsum("ij,ij->i", X[item[sl]], v[worker[sl]])
    # standardise each worker's projections over the items they labelled
    count = np.maximum(np.bincount(worker, minlength=n_workers), 1)
    mean = np.bincount(worker, weights=z, minlength=n_workers) / count
    z -= mean[worker]
    sd = np.sqrt(np.bincount(worker, weights=z * z, minlength=n_workers) / count)
    sd[~(sd > 0)] = 1.0
    z /= sd[worker]
    return expit(_STEEPNESS * (z - offset[worker])), direction, offset


# ------------------------------------------------------------------ public
def simulate_crowd(
    y_true,
    n_workers=10,
    labels_per_item=3,
    worker_profiles=None,
    X=None,
    instance_dependent=0.0,
    classes=None,
    sparse=False,
    missing_label=np.nan,
    random_state=None,
    return_info=False,
):
    """Simulate a crowd of workers labelling items whose true class is known.

    Each worker ``r`` has a confusion matrix ``C_r`` (row = true class,
    column = given label) set by their profile. Every item gets
    ``labels_per_item`` labels from distinct workers chosen uniformly at
    random; the label of worker ``r`` on an item of class ``k`` is drawn from
    ``C_r[k]``. With ``instance_dependent = s > 0`` each worker also has a
    random direction ``u_r`` in the standardised feature space and an offset
    ``b_r``; on item ``x`` their label is replaced by a uniformly random one
    with probability ``s * sigmoid(3 * (z_r(x) - b_r))``, where ``z_r(x)`` is
    the projection of ``x`` on ``u_r`` standardised over the worker's items.
    So each worker's accuracy drops toward chance in one region of the
    feature space, the more so the larger ``s``.

    Worker profiles:

    - ``"reliable"``: accuracy uniform in [0.7, 0.95] on every class, errors
      spread over the other classes (Dirichlet weights).
    - ``"uniform_spammer"``: a uniformly random label, whatever the item.
    - ``"constant_spammer"``: always the same (random) label.
    - ``"adversarial"``: right with probability uniform in
      ``[0.1 / K, 0.6 / K]`` (below chance), otherwise gives the class
      shifted by a fixed random ``s`` in ``1..K-1``: ``(k + s) mod K``.
    - ``"confusion"``: reliable (accuracy in [0.8, 0.95]) except on
      ``max(1, K // 3)`` random disjoint class pairs ``(a, b)``: an item of
      class ``a`` is labelled ``b`` with probability in [0.25, 0.45] (on top
      of the row's other errors) and one of class ``b`` is labelled ``a``
      with probability in [0, 0.15]. The confusion is class-conditional and
      asymmetric, so a single accuracy per worker cannot describe it.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true class of each item: ints, floats or strings (no missing
        value). The crowd holds the same label values.
    n_workers : int, default=10
        Number of workers (columns of the crowd).
    labels_per_item : int, default=3
        Number of labels of each item, from distinct workers; at most
        ``n_workers``.
    worker_profiles : None, str, list of str or dict, default=None
        ``None``: every worker is ``"reliable"``. A profile name: every worker
        has it. A list: the profile of each worker (length ``n_workers``). A
        dict ``{profile: fraction}`` (fractions summing to 1): that share of
        the workers (rounded by largest remainder) in random order.
    X : array-like of shape (n_samples, n_features), default=None
        Features of the items (dense, numeric). Required when
        ``instance_dependent > 0``, ignored otherwise.
    instance_dependent : float in [0, 1], default=0.0
        Strength of the instance-dependent noise (0: none; 1: a worker is at
        chance deep in their weak region).
    classes : array-like, default=None
        The classes workers may answer; default the sorted labels of
        ``y_true``. Must contain every label of ``y_true``.
    sparse : bool, default=False
        Return the crowd as a ``scipy.sparse.csr_array`` whose stored entries
        (explicit zeros included) are the labels and whose unstored cells are
        missing. No dense ``n_samples x n_workers`` array is built, so large
        crowds fit in memory. Needs numeric labels.
    missing_label : scalar, default=np.nan
        Fill value of the missing cells of the dense crowd. Must not be one of
        the classes.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw (workers, assignment, labels).
    return_info : bool, default=False
        Also return the true worker parameters (see Returns).

    Returns
    -------
    Y : ndarray of shape (n_samples, n_workers) or csr_array
        The crowd label matrix (float with NaN missing for numeric labels,
        object for strings), when ``return_info=False``.
    info : Bunch
        When ``return_info=True``, with keys

        - ``Y``: the crowd label matrix as above;
        - ``classes``: ndarray of shape (n_classes,), the classes indexing the
          confusion matrices;
        - ``confusion``: ndarray of shape (n_workers, n_classes, n_classes),
          the true confusion matrices (rows: true class, columns: label);
        - ``worker_accuracy``: ndarray of shape (n_workers,), each worker's
          expected accuracy under the class frequencies of ``y_true``
          (before any instance-dependent degradation);
        - ``worker_profiles``: ndarray of shape (n_workers,), profile names;
        - ``worker_direction``, ``worker_offset``: the unit directions
          ``(n_workers, n_features)`` and offsets ``(n_workers,)`` of the
          weak regions, or ``None`` when ``instance_dependent == 0``.

    Raises
    ------
    ValueError
        For an unknown profile, bad fractions, ``labels_per_item`` outside
        ``[1, n_workers]``, ``y_true`` with missing values or labels outside
        ``classes``, fewer than 2 classes, ``instance_dependent > 0`` without
        ``X``, ``X`` of the wrong length, ``sparse=True`` with non-numeric
        labels, or a ``missing_label`` that is a class.

    See Also
    --------
    make_crowd_classification : Features, true classes and a crowd at once.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.datasets import simulate_crowd
    >>> y_true = np.array(["cat", "dog", "dog", "bird"] * 25)
    >>> Y = simulate_crowd(y_true, n_workers=6, labels_per_item=3,
    ...                    worker_profiles={"reliable": 0.5, "uniform_spammer": 0.5},
    ...                    random_state=0)
    >>> Y.shape
    (100, 6)
    >>> from skcrowd.utils import is_missing_label
    >>> (~is_missing_label(Y)).sum(axis=1)[:5]
    array([3, 3, 3, 3, 3])
    >>> sorted(set(Y[~is_missing_label(Y)]))
    ['bird', 'cat', 'dog']
    >>> info = simulate_crowd(y_true, n_workers=6, worker_profiles="adversarial",
    ...                       random_state=0, return_info=True)
    >>> info.confusion.shape
    (6, 3, 3)
    >>> bool((info.worker_accuracy < 1 / 3).all())
    True
    """
    n_workers = _check_int(n_workers, "n_workers", 1)
    labels_per_item = _check_int(labels_per_item, "labels_per_item", 1)
    if labels_per_item > n_workers:
        raise ValueError(
            f"labels_per_item={labels_per_item} > n_workers={n_workers}: each "
            "item's labels come from distinct workers."
        )
    instance_dependent = _check_instance_dependent(instance_dependent)
    codes, classes = _encode_y_true(y_true, classes)
    n_samples, K = len(codes), len(classes)
    numeric = classes.dtype.kind in "iufb"
    if sparse and not numeric:
        raise ValueError(
            "sparse=True stores the labels themselves and needs numeric labels; "
            f"got {classes.dtype} labels. Encode y_true (e.g. with "
            "sklearn.preprocessing.LabelEncoder) or use sparse=False."
        )
    if not sparse and is_missing_label(classes, missing_label).any():
        raise ValueError(
            f"missing_label={missing_label!r} is one of the classes "
            f"{classes.tolist()}; choose a marker that is not a label."
        )
    if instance_dependent > 0:
        if X is None:
            raise ValueError(
                "instance_dependent > 0 needs the items' features X: a worker's "
                "accuracy varies over the feature space."
            )
        X = check_array(X, dtype=np.float64, input_name="X")
        if X.shape[0] != n_samples:
            raise ValueError(
                f"X has {X.shape[0]} rows but y_true has {n_samples} items."
            )
    rng = check_random_state(random_state)

    profiles = _resolve_profiles(worker_profiles, n_workers, rng)
    conf = _worker_confusions(profiles, K, rng)
    chosen = _assign_workers(n_samples, n_workers, labels_per_item, rng)
    item = np.repeat(np.arange(n_samples, dtype=np.int64), labels_per_item)
    worker = chosen.ravel()
    label = _sample_rows(conf.reshape(-1, K), worker * K + codes[item], rng)

    direction = offset = None
    if instance_dependent > 0:
        weakness, direction, offset = _weakness(X, item, worker, n_workers, rng)
        at_chance = rng.random_sample(len(item)) < instance_dependent * weakness
        random_label = rng.randint(0, K, size=len(item))
        label = np.where(at_chance, random_label, label)

    values = classes[label]
    if sparse:
        indptr = np.arange(0, len(item) + 1, labels_per_item, dtype=np.int64)
        Y = sp.csr_array((values, worker, indptr), shape=(n_samples, n_workers))
    else:
        if not numeric:
            dtype = object
        elif isinstance(missing_label, Real) or missing_label is None:
            dtype = np.result_type(classes.dtype, np.asarray(missing_label).dtype)
        else:
            dtype = object
        Y = np.full((n_samples, n_workers), missing_label, dtype=dtype)
        Y[item, worker] = values
    if not return_info:
        return Y

    prior = np.bincount(codes, minlength=K) / n_samples
    accuracy = np.einsum("rkk,k->r", conf, prior)
    return Bunch(
        Y=Y,
        classes=classes,
        confusion=conf,
        worker_accuracy=accuracy,
        worker_profiles=profiles,
        worker_direction=direction,
        worker_offset=offset,
    )


def make_crowd_classification(
    n_samples=1000,
    n_features=20,
    n_classes=3,
    n_workers=10,
    labels_per_item=3,
    worker_profiles=None,
    class_weights=None,
    instance_dependent=0.0,
    n_informative=None,
    class_sep=1.0,
    sparse=False,
    missing_label=np.nan,
    random_state=None,
    return_info=False,
):
    """Generate a classification problem labelled by a simulated crowd.

    The features and true classes come from
    :func:`sklearn.datasets.make_classification` (one Gaussian cluster per
    class, no label flips, class imbalance through ``class_weights``); the
    crowd comes from :func:`simulate_crowd` with the same workers model.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of items.
    n_features : int, default=20
        Number of features.
    n_classes : int, default=3
        Number of classes (at least 2). The labels are ``0..n_classes-1``.
    n_workers : int, default=10
        Number of workers.
    labels_per_item : int, default=3
        Number of labels of each item, from distinct random workers.
    worker_profiles : None, str, list of str or dict, default=None
        The workers' profiles (``"reliable"``, ``"uniform_spammer"``,
        ``"constant_spammer"``, ``"adversarial"``, ``"confusion"``); see
        :func:`simulate_crowd`. ``None``: all reliable.
    class_weights : array-like of shape (n_classes,) or (n_classes - 1,), \
default=None
        Proportions of the classes (``weights`` of ``make_classification``);
        ``None`` for balanced classes.
    instance_dependent : float in [0, 1], default=0.0
        Strength of the instance-dependent noise: each worker's accuracy drops
        toward chance in a random region of the feature space.
    n_informative : int, default=None
        Number of informative features; ``None`` uses
        ``min(n_features, max(2, ceil(log2(n_classes)) + 1))``. Up to two
        redundant features are added; the rest is noise.
    class_sep : float, default=1.0
        Separation of the classes in feature space (larger is easier).
    sparse : bool, default=False
        Return ``Y`` as a ``scipy.sparse.csr_array`` of the labels (never
        dense).
    missing_label : scalar, default=np.nan
        Fill value of the missing cells of the dense crowd.
    random_state : int, RandomState instance or None, default=None
        Seed of the features, the workers and the labels.
    return_info : bool, default=False
        Return a Bunch with the true worker parameters as well.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features.
    Y : ndarray of shape (n_samples, n_workers) or csr_array
        The crowd label matrix, NaN (``missing_label``) where a worker did not
        label the item.
    y_true : ndarray of shape (n_samples,)
        The true classes.
    info : Bunch
        Instead of the tuple when ``return_info=True``: ``X``, ``Y``,
        ``y_true`` and the keys of :func:`simulate_crowd`'s info
        (``classes``, ``confusion``, ``worker_accuracy``,
        ``worker_profiles``, ``worker_direction``, ``worker_offset``).

    See Also
    --------
    simulate_crowd : The same workers on any labelled dataset.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.datasets import make_crowd_classification
    >>> X, Y, y_true = make_crowd_classification(
    ...     n_samples=200, n_workers=8, labels_per_item=3, random_state=0)
    >>> X.shape, Y.shape, y_true.shape
    ((200, 20), (200, 8), (200,))
    >>> np.unique((~np.isnan(Y)).sum(axis=1))
    array([3])
    >>> info = make_crowd_classification(
    ...     n_samples=200, n_workers=8,
    ...     worker_profiles={"reliable": 0.75, "uniform_spammer": 0.25},
    ...     random_state=0, return_info=True)
    >>> sorted(info.worker_profiles)
    ['reliable', 'reliable', 'reliable', 'reliable', 'reliable', 'reliable',
     'uniform_spammer', 'uniform_spammer']
    >>> info.confusion.shape
    (8, 3, 3)
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_features = _check_int(n_features, "n_features", 1)
    n_classes = _check_int(n_classes, "n_classes", 2)
    n_workers = _check_int(n_workers, "n_workers", 1)
    labels_per_item = _check_int(labels_per_item, "labels_per_item", 1, n_workers)
    _check_instance_dependent(instance_dependent)
    if worker_profiles is not None and not isinstance(worker_profiles, (str, Mapping)):
        try:  # an iterator would be spent by the check below
            worker_profiles = list(worker_profiles)
        except TypeError:
            pass  # _resolve_profiles raises the error
    # validate the profiles before generating any feature
    _resolve_profiles(worker_profiles, n_workers, np.random.RandomState(0))
    if n_informative is None:
        n_informative = min(n_features, max(2, int(np.ceil(np.log2(n_classes))) + 1))
    n_informative = _check_int(n_informative, "n_informative", 1, n_features)
    if 2**n_informative < n_classes:
        raise ValueError(
            f"n_informative={n_informative} is too small for n_classes="
            f"{n_classes}: need 2**n_informative >= n_classes."
        )
    if class_weights is not None:
        class_weights = list(np.asarray(class_weights, dtype=np.float64).ravel())
        if len(class_weights) not in (n_classes, n_classes - 1) or any(
            not (w >= 0) for w in class_weights
        ):
            raise ValueError(
                "class_weights must hold n_classes (or n_classes - 1) "
                f"non-negative proportions; got {class_weights}."
            )

    rng = check_random_state(random_state)
    X, y_true = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=min(2, n_features - n_informative),
        n_repeated=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        weights=class_weights,
        flip_y=0.0,
        class_sep=class_sep,
        random_state=rng,
    )
    info = simulate_crowd(
        y_true,
        n_workers=n_workers,
        labels_per_item=labels_per_item,
        worker_profiles=worker_profiles,
        X=X,
        instance_dependent=instance_dependent,
        classes=np.arange(n_classes),
        sparse=sparse,
        missing_label=missing_label,
        random_state=rng,
        return_info=True,
    )
    if not return_info:
        return X, info.Y, y_true
    return Bunch(X=X, y_true=y_true, **info)
