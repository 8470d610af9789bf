"""Multi-label data: Reuters-21578, a long-tailed simulator and crowds of taggers.

- :func:`load_reuters21578` reads the ModApte split of Reuters-21578 (90
  categories) from the shared benchmark data; it is not bundled with the
  package.
- :func:`make_long_tailed_multilabel` generates a learnable multi-label
  problem whose label frequencies follow a power law, so that head, medium
  and tail labels (:func:`skcrowd.metrics.label_frequency_groups`) exist.
- :func:`simulate_multilabel_crowd` has simulated workers tag items whose
  true label sets are known, with per-worker (and per-label) sensitivity and
  specificity.

Nothing here imports torch.
"""

from __future__ import annotations

import gzip
import json
import os
from numbers import Real
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch, check_random_state

from ..metrics._multilabel import _check_indicator
from ..utils.validation import _check_int
from ._simulate import _assign_workers, _resolve_profiles

__all__ = [
    "MULTILABEL_WORKER_PROFILES",
    "load_reuters21578",
    "make_long_tailed_multilabel",
    "simulate_multilabel_crowd",
]

# ----------------------------------------------------------------- Reuters
_REUTERS_FILE = Path("reuters21578") / "modapte90.jsonl.gz"

_REUTERS_DESCR = """\
reuters21578: Reuters-21578, ModApte split, the 90 categories with at least
one training and one test document (long-tailed multi-label text).

7,770 training and 3,019 test newswire stories of 1987, each with one or more
of 90 topic categories (1.2 labels a story on average). Label frequencies are
long-tailed: by training documents per label, head >= 35, medium 9-34,
tail <= 8 (Huang et al., EMNLP 2021; skcrowd.metrics.label_frequency_groups).
A class-balanced TF-IDF + LinearSVC gets micro-F1 0.869, macro-F1 0.474,
tail macro-F1 0.09 on it.

- data_train, data_test: lists of str (title and body);
- Y_train (7770, 90), Y_test (3019, 90): int8 indicator matrices, columns
  ordered as target_names (sorted category names);
- ids_train, ids_test: the NEWID of each story.

Parsed from the 22 original SGML files (as shipped in
jakecyr/TextClassification) and repackaged as one JSON object a line (id,
split, labels, text); values unchanged. Research use only, under the
collection's own terms; not bundled with skcrowd.

Sources (cite when you use it):
Lewis, D. D. (1997). Reuters-21578 text categorization test collection,
Distribution 1.0. AT&T Labs - Research.
Apte, C., Damerau, F. and Weiss, S. M. (1994). Automated learning of decision
rules for text categorization. ACM Transactions on Information Systems 12(3),
233-251 (the ModApte split).
Huang, Y., Giledereli, B., Koksal, A., Ozgur, A. and Ozkirimli, E. (2021).
Balancing methods for multi-label text classification with long-tailed class
distribution. Proceedings of EMNLP 2021, 8153-8161 (head/medium/tail groups).
"""


def _default_data_home():
    """``$SKCROWD_SHARED_DATA``, else ``../shared/data`` next to the repository."""
    env = os.environ.get("SKCROWD_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _reuters_path(data_home):
    home = _default_data_home() if data_home is None else Path(data_home)
    for path in (home / _REUTERS_FILE, home / _REUTERS_FILE.name):
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"Reuters-21578 not found: no {_REUTERS_FILE} under {home}. It is "
        "benchmark data, not bundled with skcrowd: pass data_home= (the folder "
        "holding reuters21578/modapte90.jsonl.gz) or set $SKCROWD_SHARED_DATA."
    )


def load_reuters21578(data_home=None):
    """Load Reuters-21578 (ModApte, 90 categories): long-tailed multi-label text.

    7,770 training and 3,019 test newswire stories, each with one or more of
    the 90 categories that have at least one training and one test document.
    The data is *not* bundled with skcrowd (research use only, under the
    collection's own terms); it is read from the shared benchmark data.

    Sources (cite when you use it): Lewis, "Reuters-21578 text
    categorization test collection, Distribution 1.0", 1997; the ModApte
    split of Apte, Damerau & Weiss, ACM TOIS 12(3), 1994. The head/medium/tail
    groups of :func:`skcrowd.metrics.label_frequency_groups` are those of
    Huang et al., EMNLP 2021.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``reuters21578/modapte90.jsonl.gz`` (or the file
        itself directly). Default: ``$SKCROWD_SHARED_DATA`` if set, else
        ``../shared/data`` next to the repository.

    Returns
    -------
    data : Bunch
        With keys

        - ``data_train``, ``data_test``: lists of str, the stories (title
          and body);
        - ``Y_train``: ndarray of shape (7770, 90), int8 indicator matrix;
        - ``Y_test``: ndarray of shape (3019, 90), int8 indicator matrix;
        - ``target_names``: ndarray of str of shape (90,), the sorted
          category names, one per column of ``Y_train``/``Y_test``;
        - ``ids_train``, ``ids_test``: int ndarrays, the stories' NEWID;
        - ``DESCR``: str, description and citations.

    Raises
    ------
    FileNotFoundError
        If the file is absent.

    Examples
    --------
    >>> from skcrowd.datasets import load_reuters21578
    >>> reuters = load_reuters21578()  # doctest: +SKIP
    >>> reuters.Y_train.shape, reuters.Y_test.shape  # doctest: +SKIP
    ((7770, 90), (3019, 90))
    >>> reuters.target_names[:3]  # doctest: +SKIP
    array(['acq', 'alum', 'barley'], dtype='<U15')
    """
    path = _reuters_path(data_home)
    parts = {"train": ([], [], []), "test": ([], [], [])}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            doc = json.loads(line)
            texts, labels, ids = parts[doc["split"]]
            texts.append(doc["text"])
            labels.append(doc["labels"])
            ids.append(doc["id"])
    names = sorted({c for split in parts.values() for ls in split[1] for c in ls})
    target_names = np.array(names, dtype=str)
    column = {name: j for j, name in enumerate(names)}

    def indicator(label_lists):
        Y = np.zeros((len(label_lists), len(names)), dtype=np.int8)
        rows = np.repeat(np.arange(len(label_lists)), [len(ls) for ls in label_lists])
        cols = [column[c] for ls in label_lists for c in ls]
        Y[rows, cols] = 1
        return Y

    return Bunch(
        data_train=parts["train"][0],
        data_test=parts["test"][0],
        Y_train=indicator(parts["train"][1]),
        Y_test=indicator(parts["test"][1]),
        target_names=target_names,
        ids_train=np.array(parts["train"][2], dtype=np.int64),
        ids_test=np.array(parts["test"][2], dtype=np.int64),
        DESCR=_REUTERS_DESCR,
    )


# ----------------------------------------------------- long-tailed simulator
def _check_positive_real(value, name, *, low=0.0, strict=True):
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not np.isfinite(value)
        or (value <= low if strict else value < low)
    ):
        bound = ">" if strict else ">="
        raise ValueError(
            f"{name} must be a finite number {bound} {low}; got {value!r}."
        )
    return float(value)


def make_long_tailed_multilabel(
    n_samples=1000,
    n_features=50,
    n_labels=20,
    *,
    imbalance=1.8,
    avg_labels=1.3,
    doc_length=30,
    noise=0.5,
    random_state=None,
    sparse=False,
):
    r"""Generate a long-tailed multi-label problem with bag-of-words features.

    Label ``l`` (``0`` the most frequent) is carried by an item with
    probability :math:`q_l = \min(0.95, c\,(l + 1)^{-a})`, with ``a =
    imbalance`` and ``c`` such that the :math:`q_l` sum to ``avg_labels``
    (before the cap), so the label frequencies follow a power law and, at
    the defaults, the head (>= 35 items), medium and tail (<= 8 items)
    groups of :func:`skcrowd.metrics.label_frequency_groups` all exist. An
    item left without a label gets one drawn with probabilities
    :math:`\propto q_l`, so every item has at least one label.

    The features are word counts of a topic model, as in
    :func:`sklearn.datasets.make_multilabel_classification`: every label
    has a topic, a distribution over the ``n_features`` words drawn from a
    Dirichlet(0.1), concentrated on a few words. An item's words are drawn
    from the mean of its labels' topics, mixed with a uniform background of
    weight ``noise``; it has a Poisson(``doc_length``) number of words (the
    counts are independent Poisson variables, which is the same thing). The
    words of a label are informative of it, even for the tail labels. At
    the defaults a one-vs-rest logistic regression on TF-IDF (70/30 split)
    gets micro-F1 about 0.8, macro-F1 about 0.45 and tail macro-F1 about
    0.1-0.2, close to what such a model gets on Reuters-21578.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of items.
    n_features : int, default=50
        Number of features (words).
    n_labels : int, default=20
        Number of labels, at least 2.
    imbalance : float, default=1.8
        Exponent ``a`` of the power law (0: all labels equally frequent).
    avg_labels : float, default=1.3
        Expected number of labels of an item (before the cap of 0.95 per
        label and the one-label minimum).
    doc_length : float, default=30
        Mean number of words of an item.
    noise : float in [0, 1), default=0.5
        Weight of the uniform background in each item's word distribution.
    random_state : int, RandomState instance or None, default=None
        Seed of the labels, topics and counts.
    sparse : bool, default=False
        Return ``X`` as a ``scipy.sparse.csr_array`` (the counts are
        sparse when ``doc_length`` is small beside ``n_features``).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features) or csr_array
        The word counts (float64).
    Y : ndarray of shape (n_samples, n_labels)
        The int8 label indicator matrix.

    Raises
    ------
    ValueError
        For a non-positive size, ``n_labels < 2``, a negative ``imbalance``,
        ``avg_labels`` outside ``(0, n_labels]`` or ``noise`` outside
        ``[0, 1)``.

    See Also
    --------
    simulate_multilabel_crowd : Simulated taggers for ``Y``.

    Examples
    --------
    >>> from skcrowd.datasets import make_long_tailed_multilabel
    >>> from skcrowd.metrics import label_frequency_groups
    >>> X, Y = make_long_tailed_multilabel(random_state=0)
    >>> X.shape, Y.shape
    ((1000, 50), (1000, 20))
    >>> Y.sum(axis=0)[[0, 1, -1]]  # label 0 is the most frequent
    array([808, 243,   4])
    >>> groups = label_frequency_groups(Y)
    >>> [(g, int((groups == g).sum())) for g in ("head", "medium", "tail")]
    [('head', 5), ('medium', 10), ('tail', 5)]
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_features = _check_int(n_features, "n_features", 1)
    n_labels = _check_int(n_labels, "n_labels", 2)
    imbalance = _check_positive_real(imbalance, "imbalance", strict=False)
    avg_labels = _check_positive_real(avg_labels, "avg_labels")
    if avg_labels > n_labels:
        raise ValueError(
            f"avg_labels={avg_labels} exceeds n_labels={n_labels}: an item has at "
            "most n_labels labels."
        )
    doc_length = _check_positive_real(doc_length, "doc_length")
    noise = _check_positive_real(noise, "noise", strict=False)
    if noise >= 1:
        raise ValueError(f"noise must be in [0, 1); got {noise}.")
    rng = check_random_state(random_state)

    weight = np.arange(1, n_labels + 1, dtype=np.float64) ** -imbalance
    q = np.minimum(0.95, avg_labels * weight / weight.sum())
    Y = rng.random_sample((n_samples, n_labels)) < q
    empty = np.flatnonzero(~Y.any(axis=1))
    Y[empty, rng.choice(n_labels, size=len(empty), p=q / q.sum())] = True

    topics = rng.dirichlet(np.full(n_features, 0.1), size=n_labels)
    mix = (Y @ topics) / Y.sum(axis=1, keepdims=True)
    mix = (1.0 - noise) * mix + noise / n_features
    X = rng.poisson(doc_length * mix).astype(np.float64)
    if sparse:
        X = sp.csr_array(X)
    return X, Y.astype(np.int8)


# ------------------------------------------------------- multi-label crowds
#: Names of the worker profiles of :func:`simulate_multilabel_crowd`.
MULTILABEL_WORKER_PROFILES = (
    "reliable",
    "lazy",
    "uniform_spammer",
    "constant_spammer",
    "adversarial",
)


def _check_rates(values, name, n_workers, n_labels):
    """A (n_workers, n_labels) array of probabilities from a scalar/1-D/2-D."""
    rates = np.asarray(values, dtype=np.float64)
    if rates.ndim == 0:
        rates = np.full((n_workers, n_labels), float(rates))
    elif rates.shape == (n_workers,):
        rates = np.repeat(rates[:, None], n_labels, axis=1)
    elif rates.shape != (n_workers, n_labels):
        raise ValueError(
            f"{name} must be a scalar, ({n_workers},) or ({n_workers}, "
            f"{n_labels}); got shape {rates.shape}."
        )
    if not np.all((rates >= 0) & (rates <= 1)):
        raise ValueError(f"{name} must hold probabilities in [0, 1].")
    return rates.copy()


def _multilabel_workers(profiles, n_labels, density, rng):
    """Sensitivity and specificity, each (n_workers, n_labels), per profile."""
    n_workers = len(profiles)
    sens = np.empty((n_workers, n_labels))
    spec = np.empty((n_workers, n_labels))
    for profile in MULTILABEL_WORKER_PROFILES:  # one block of draws each
        idx = np.flatnonzero(profiles == profile)
        n = len(idx)
        if n == 0:
            continue
        if profile == "reliable":
            se = rng.uniform(0.7, 0.95, size=n)
            fp = density * rng.uniform(0.0, 0.25, size=n)
        elif profile == "lazy":
            se = rng.uniform(0.3, 0.6, size=n)
            fp = density * rng.uniform(0.0, 0.1, size=n)
        elif profile == "uniform_spammer":
            # tags each label at the data's label density, whatever the truth
            se = fp = np.full(n, density)
        elif profile == "adversarial":
            se = rng.uniform(0.0, 0.2, size=n)
            fp = np.minimum(0.5, density * rng.uniform(1.0, 3.0, size=n))
        if profile != "constant_spammer":
            sens[idx] = se[:, None]
            spec[idx] = 1.0 - fp[:, None]
            continue
        # the same tags on every item: round(density * n_labels) (>= 1)
        # random labels, always; the others never
        m = max(1, int(round(density * n_labels)))
        keys = rng.random_sample((n, n_labels))
        tagged = np.zeros((n, n_labels), dtype=bool)
        np.put_along_axis(tagged, np.argsort(keys, axis=1)[:, :m], True, axis=1)
        sens[idx] = tagged
        spec[idx] = ~tagged
    return sens, spec


def simulate_multilabel_crowd(
    Y,
    *,
    n_workers=10,
    labels_per_item=3,
    worker_profiles=None,
    sensitivity=None,
    specificity=None,
    random_state=None,
    return_info=False,
):
    """Simulate workers tagging items whose true label sets are known.

    Every item is annotated by ``labels_per_item`` distinct workers chosen
    uniformly at random (as :func:`simulate_crowd` assigns workers). A
    worker who annotates an item answers every label, 0 or 1: they tag a
    true label with probability ``sensitivity[r, l]`` and an absent label
    with probability ``1 - specificity[r, l]``, independently. Cells of
    workers who did not annotate the item are NaN, for all labels at once.
    Each label of the result is thus a binary crowd ``Y3[:, :, l]``, what
    :class:`skcrowd.aggregation.MultiLabelAggregator` aggregates.

    Worker profiles (``density`` is the share of 1s in ``Y``, i.e. the mean
    number of labels of an item over ``n_labels``). False-positive rates
    (``1 - specificity``) scale with ``density``, so that a profile adds
    about as many wrong tags per item whether there are 20 labels or 90:

    - ``"reliable"``: sensitivity uniform in [0.7, 0.95], false-positive
      rate ``density`` times a uniform in [0, 0.25] (on average under an
      eighth of an item's label count in wrong tags), the same on all
      labels.
    - ``"lazy"``: tags only some true labels: sensitivity in [0.3, 0.6],
      false-positive rate ``density`` times a uniform in [0, 0.1].
    - ``"uniform_spammer"``: random tags: each label with probability
      ``density`` whatever the truth (sensitivity = ``density`` =
      1 - specificity), so they tag as many labels as a true item has.
    - ``"constant_spammer"``: tags the same ``max(1, round(density *
      n_labels))`` random labels on every item and no other (sensitivity 1,
      specificity 0 on those labels; sensitivity 0, specificity 1 on the
      others).
    - ``"adversarial"``: misses most true labels (sensitivity in [0, 0.2])
      and tags absent ones instead, more than an item has labels
      (false-positive rate ``density`` times a uniform in [1, 3], at most
      0.5).

    Parameters
    ----------
    Y : {array-like, sparse matrix} of shape (n_samples, n_labels)
        The true binary label indicator matrix.
    n_workers : int, default=10
        Number of workers.
    labels_per_item : int, default=3
        Number of workers annotating each item, at most ``n_workers``.
    worker_profiles : None, str, list of str or dict, default=None
        ``None``: all ``"reliable"``. A profile name, a list of one name per
        worker, or a dict ``{profile: fraction}`` (fractions summing to 1,
        rounded by largest remainder, workers in random order), as in
        :func:`simulate_crowd`.
    sensitivity : float or array-like of shape (n_workers,) or \
(n_workers, n_labels), default=None
        Overrides the profiles' sensitivities, for every worker.
    specificity : float or array-like of shape (n_workers,) or \
(n_workers, n_labels), default=None
        Overrides the profiles' specificities, for every worker.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw (workers, assignment, tags).
    return_info : bool, default=False
        Also return the workers' true parameters (see Returns).

    Returns
    -------
    Y3 : ndarray of shape (n_samples, n_workers, n_labels)
        Float64: 0/1 where the worker annotated the item, NaN elsewhere;
        when ``return_info=False``.
    info : Bunch
        When ``return_info=True``: ``Y3``; ``sensitivity`` and
        ``specificity``, ndarrays of shape (n_workers, n_labels);
        ``worker_profiles``, ndarray of shape (n_workers,);
        ``annotators``, int ndarray of shape (n_samples, labels_per_item),
        the workers of each item.

    Raises
    ------
    ValueError
        If ``Y`` is not a 2-D 0/1 matrix, for an unknown profile, bad
        fractions, ``labels_per_item`` outside ``[1, n_workers]`` or
        sensitivities/specificities of the wrong shape or outside [0, 1].

    See Also
    --------
    make_long_tailed_multilabel : A long-tailed ``Y`` with features.
    simulate_crowd : The multi-class simulator.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.datasets import simulate_multilabel_crowd
    >>> Y = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 1]] * 25)
    >>> Y3 = simulate_multilabel_crowd(
    ...     Y, n_workers=6, labels_per_item=3,
    ...     worker_profiles={"reliable": 0.5, "uniform_spammer": 0.5},
    ...     random_state=0)
    >>> Y3.shape
    (100, 6, 3)
    >>> annotated = ~np.isnan(Y3[:, :, 0])
    >>> annotated.sum(axis=1)[:5]  # three workers per item
    array([3, 3, 3, 3, 3])
    >>> bool((np.isnan(Y3).any(axis=2) == np.isnan(Y3).all(axis=2)).all())
    True
    >>> perfect = simulate_multilabel_crowd(Y, sensitivity=1, specificity=1,
    ...                                     random_state=0)
    >>> bool((np.nanmax(perfect, axis=1) == Y).all())
    True
    """
    Y = _check_indicator(Y, "Y")
    n_samples, n_labels = Y.shape
    n_workers = _check_int(n_workers, "n_workers", 1)
    labels_per_item = _check_int(labels_per_item, "labels_per_item", 1)
    if labels_per_item > n_workers:
        raise ValueError(
            f"labels_per_item={labels_per_item} > n_workers={n_workers}: each "
            "item is annotated by distinct workers."
        )
    rng = check_random_state(random_state)
    profiles = _resolve_profiles(
        worker_profiles, n_workers, rng, known=MULTILABEL_WORKER_PROFILES
    )
    density = float(Y.mean())
    sens, spec = _multilabel_workers(profiles, n_labels, density, rng)
    if sensitivity is not None:
        sens = _check_rates(sensitivity, "sensitivity", n_workers, n_labels)
    if specificity is not None:
        spec = _check_rates(specificity, "specificity", n_workers, n_labels)

    chosen = _assign_workers(n_samples, n_workers, labels_per_item, rng)
    item = np.repeat(np.arange(n_samples), labels_per_item)
    worker = chosen.ravel()
    # P(tag = 1) of each (annotation, label): sensitivity on the true labels,
    # 1 - specificity on the others
    truth = Y[item].astype(bool)
    p_tag = np.where(truth, sens[worker], 1.0 - spec[worker])
    tags = rng.random_sample(p_tag.shape) < p_tag
    Y3 = np.full((n_samples, n_workers, n_labels), np.nan)
    Y3[item, worker] = tags
    if not return_info:
        return Y3
    return Bunch(
        Y3=Y3,
        sensitivity=sens,
        specificity=spec,
        worker_profiles=profiles,
        annotators=chosen,
    )
