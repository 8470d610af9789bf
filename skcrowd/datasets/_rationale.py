"""Crowds that give class labels *and* rationales: a simulator and YELP-HAT.

A rationale is what a worker says an item contains: a set of terms (words
of a review) or attributes (tags of an image). It is stored as a 0/1 mask
``R[i, r, t]`` (item, worker, term), a 3-D ``scipy.sparse.coo_array`` that
is never densified. :func:`make_rationale_crowd` simulates a hard task
where workers often cannot judge the class but can describe the item;
:func:`load_yelp_hat` reads real crowd labels and highlighted words
(Sen et al., ACL 2020), bundled in ``skcrowd/datasets/data``. Nothing here
imports torch.
"""

from __future__ import annotations

import html
import re
from importlib import resources
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch, check_random_state

from ..utils.validation import _check_int

__all__ = ["load_yelp_hat", "make_rationale_crowd", "rationale_terms"]


# ------------------------------------------------------------------ simulator
def _check_fraction(value, name, low=0.0, high=1.0):
    if not isinstance(value, Real) or isinstance(value, bool):
        raise ValueError(f"{name} must be a float; got {value!r}.")
    if not low <= float(value) <= high:
        raise ValueError(f"{name} must be in [{low}, {high}]; got {value}.")
    return float(value)


def _check_range(value, name):
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high); got {value!r}.") from None
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"{name} must satisfy 0 <= low <= high <= 1; got {value!r}.")
    return low, high


def make_rationale_crowd(
    n_samples=1000,
    *,
    n_features=40,
    n_attributes=12,
    n_classes=3,
    n_workers=20,
    labels_per_item=4,
    attribute_rate=0.3,
    class_noise=0.3,
    n_nuisance=10,
    nuisance_scale=1.5,
    feature_noise=0.5,
    worker_accuracy=(0.5, 0.9),
    difficulty=2.0,
    cannot_judge=0.9,
    rationale_recall=(0.5, 0.9),
    rationale_false_positive=0.02,
    sparse=True,
    missing_label=np.nan,
    random_state=None,
    return_info=False,
):
    r"""A hard task: the class is hard to judge, the item easy to describe.

    Every item has ``n_attributes`` binary latent attributes
    :math:`z_i \in \{0, 1\}^A` (each present with probability
    ``attribute_rate``). Its class depends weakly on all of them: class
    scores :math:`s_i = W^\top (z_i - \bar z) / \sigma_z + \epsilon_i`
    (``W`` standard normal, :math:`\epsilon` of scale ``class_noise``),
    :math:`y_i = \arg\max_k s_{ik}`. Its features mix the attributes
    with nuisance factors that have nothing to do with the class:
    :math:`x_i = \tanh(P^\top \tilde z_i) + Q^\top u_i + \eta_i`, ``u_i``
    ``n_nuisance`` standard normal factors scaled by ``nuisance_scale``.

    Each item is seen by ``labels_per_item`` distinct random workers. An
    item's *hardness* :math:`h_i = \exp(-(s_{i(1)} - s_{i(2)}) / \tau)`
    (``tau = difficulty``) is near 1 when its two best classes are close.
    A worker answers "cannot judge" (a missing label) with probability
    ``cannot_judge * h_i``; otherwise
    their label is right with probability
    :math:`1/K + (a_r - 1/K)(1 - h_i)`, ``a_r`` their accuracy on easy
    items (uniform in ``worker_accuracy``), and uniformly wrong otherwise.
    Whether or not they judged the class, every worker describes the item:
    they mark each present attribute with their recall (uniform in
    ``rationale_recall``) and each absent one with probability
    ``rationale_false_positive``. So rationales are present where class
    labels are missing, and they are evidence about the attributes, hence
    (weakly) about the class. With the defaults about half the labels are
    missing and about 55% of the given ones are right.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of items.
    n_features : int, default=40
        Number of features.
    n_attributes : int, default=12
        Number of latent attributes (the rationale vocabulary).
    n_classes : int, default=3
        Number of classes; labels ``0..n_classes-1``.
    n_workers : int, default=20
        Number of workers.
    labels_per_item : int, default=4
        Workers who see each item (each gives a label or "cannot judge",
        and a rationale).
    attribute_rate : float in (0, 1), default=0.3
        Probability that an attribute is present.
    class_noise : float, default=0.3
        Scale of the noise of the class scores given the attributes (the
        class is a noisy function of the attributes).
    n_nuisance : int, default=10
        Number of nuisance factors in the features.
    nuisance_scale : float, default=1.5
        Scale of the nuisance factors.
    feature_noise : float, default=0.5
        Standard deviation of the feature noise.
    worker_accuracy : (float, float), default=(0.5, 0.9)
        Range of the workers' accuracies on easy items.
    difficulty : float, default=2.0
        Scale :math:`\tau` of the hardness: larger makes more items hard
        (more "cannot judge", less accurate labels).
    cannot_judge : float in [0, 1], default=0.9
        Probability of "cannot judge" on the hardest items.
    rationale_recall : (float, float), default=(0.5, 0.9)
        Range of the workers' probabilities of marking a present attribute.
    rationale_false_positive : float in [0, 1], default=0.02
        Probability of marking an absent attribute.
    sparse : bool, default=True
        Return ``R`` as a 3-D ``scipy.sparse.coo_array``; ``False``: a dense
        ``uint8`` array.
    missing_label : scalar, default=np.nan
        Fill value of the missing class labels (unseen items and "cannot
        judge").
    random_state : int, RandomState instance or None, default=None
        Seed of everything.
    return_info : bool, default=False
        Return a Bunch with the latent variables as well.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features.
    Y : ndarray of shape (n_samples, n_workers)
        The crowd class labels, ``missing_label`` where a worker did not see
        the item or could not judge it.
    R : coo_array or ndarray of shape (n_samples, n_workers, n_attributes)
        ``R[i, r, a] = 1`` if worker ``r`` said item ``i`` has attribute
        ``a``.
    y_true : ndarray of shape (n_samples,)
        The true classes.
    info : Bunch
        Instead of the tuple when ``return_info=True``: ``X``, ``Y``, ``R``,
        ``y_true``, ``attributes`` ``(n_samples, n_attributes)``,
        ``hardness`` ``(n_samples,)``, ``seen`` (boolean
        ``(n_samples, n_workers)``: the worker saw the item),
        ``worker_accuracy``, ``worker_recall`` ``(n_workers,)``,
        ``class_weights`` ``(n_attributes, n_classes)`` and
        ``attribute_names``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.datasets import make_rationale_crowd
    >>> X, Y, R, y = make_rationale_crowd(n_samples=300, random_state=0)
    >>> X.shape, Y.shape, R.shape
    ((300, 40), (300, 20), (300, 20, 12))
    >>> given = ~np.isnan(Y)
    >>> bool(0.4 < given.sum() / (300 * 4) < 0.7)  # many "cannot judge"
    True
    >>> accuracy = (Y == y[:, None])[given].mean()
    >>> bool(0.45 < accuracy < 0.65)
    True
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_features = _check_int(n_features, "n_features", 1)
    n_attributes = _check_int(n_attributes, "n_attributes", 1)
    n_classes = _check_int(n_classes, "n_classes", 2)
    n_workers = _check_int(n_workers, "n_workers", 1)
    labels_per_item = _check_int(labels_per_item, "labels_per_item", 1, n_workers)
    n_nuisance = _check_int(n_nuisance, "n_nuisance", 0)
    rate = _check_fraction(attribute_rate, "attribute_rate")
    if not 0.0 < rate < 1.0:
        raise ValueError(f"attribute_rate must be in (0, 1); got {attribute_rate}.")
    class_noise = _check_fraction(class_noise, "class_noise", 0.0, np.inf)
    nuisance_scale = _check_fraction(nuisance_scale, "nuisance_scale", 0.0, np.inf)
    feature_noise = _check_fraction(feature_noise, "feature_noise", 0.0, np.inf)
    acc_low, acc_high = _check_range(worker_accuracy, "worker_accuracy")
    rec_low, rec_high = _check_range(rationale_recall, "rationale_recall")
    cannot_judge = _check_fraction(cannot_judge, "cannot_judge")
    difficulty = _check_fraction(difficulty, "difficulty", 0.0, np.inf)
    if difficulty == 0:
        raise ValueError("difficulty must be > 0.")
    false_pos = _check_fraction(rationale_false_positive, "rationale_false_positive")
    rng = check_random_state(random_state)
    n, A, K = n_samples, n_attributes, n_classes

    # items: attributes, class, features
    Z = rng.uniform(size=(n, A)) < rate
    Z_std = (Z - rate) / np.sqrt(rate * (1 - rate))
    W = rng.normal(size=(A, K))
    scores = Z_std @ W / np.sqrt(A) * 2.0 + class_noise * rng.normal(size=(n, K))
    y = np.argmax(scores, axis=1)
    top2 = np.sort(scores, axis=1)[:, -2:]
    hardness = np.exp(-(top2[:, 1] - top2[:, 0]) / difficulty)
    P = rng.normal(size=(A, n_features)) / np.sqrt(A)
    X = np.tanh(Z_std @ P * 1.5)
    if n_nuisance:
        Q = rng.normal(size=(n_nuisance, n_features)) / np.sqrt(n_nuisance)
        X = X + nuisance_scale * rng.normal(size=(n, n_nuisance)) @ Q
    X = X + feature_noise * rng.normal(size=(n, n_features))

    # workers
    accuracy = rng.uniform(acc_low, acc_high, size=n_workers)
    recall = rng.uniform(rec_low, rec_high, size=n_workers)
    # labels_per_item distinct workers per item: argsort of random keys
    keys = rng.uniform(size=(n, n_workers))
    who = np.argsort(keys, axis=1)[:, :labels_per_item]  # (n, L)
    items = np.repeat(np.arange(n), labels_per_item)
    workers = who.ravel()
    h = hardness[items]
    judged = rng.uniform(size=items.size) >= cannot_judge * h
    p_right = 1.0 / K + (accuracy[workers] - 1.0 / K) * (1.0 - h)
    right = rng.uniform(size=items.size) < p_right
    shift = rng.randint(1, K, size=items.size)  # a uniformly wrong class
    labels = np.where(right, y[items], (y[items] + shift) % K)

    numeric = isinstance(missing_label, Real) and not isinstance(missing_label, bool)
    Y = np.full((n, n_workers), missing_label, dtype=np.float64 if numeric else object)
    Y[items[judged], workers[judged]] = labels[judged]
    seen = np.zeros((n, n_workers), dtype=bool)
    seen[items, workers] = True

    # rationales: every worker who saw the item describes it
    draws = rng.uniform(size=(items.size, A))
    present = Z[items]
    marked = np.where(present, draws < recall[workers][:, None], draws < false_pos)
    pair, attr = np.nonzero(marked)
    coords = (items[pair], workers[pair], attr)
    shape = (n, n_workers, A)
    if sparse:
        R = sp.coo_array((np.ones(len(pair), dtype=np.uint8), coords), shape=shape)
    else:
        R = np.zeros(shape, dtype=np.uint8)
        R[coords] = 1
    if not return_info:
        return X, Y, R, y
    return Bunch(
        X=X,
        Y=Y,
        R=R,
        y_true=y,
        attributes=Z.astype(np.uint8),
        hardness=hardness,
        seen=seen,
        worker_accuracy=accuracy,
        worker_recall=recall,
        class_weights=W,
        attribute_names=np.array([f"attribute_{a}" for a in range(A)], dtype=object),
    )


# ------------------------------------------------------------------ YELP-HAT
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_SPAN = re.compile(r'<span(?:\s+class="([^"]*)")?>(.*?)</span>', re.S)


def rationale_terms(text):
    """The terms of a text: its whitespace tokens, lowercased, edges stripped.

    The tokeniser of :func:`load_yelp_hat`'s vocabulary (a worker highlights
    whitespace tokens); use it as the ``analyzer`` of a
    :class:`~sklearn.feature_extraction.text.TfidfVectorizer` so that its
    features are the rationale terms.

    Parameters
    ----------
    text : str

    Returns
    -------
    terms : list of str
        One per token that keeps a character once stripped.

    Examples
    --------
    >>> from skcrowd.datasets import rationale_terms
    >>> rationale_terms("Glad I did. The flavors were GREAT!  -")
    ['glad', 'i', 'did', 'the', 'flavors', 'were', 'great']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}.")
    out = []
    for token in text.split():
        term = _term(token)
        if term:
            out.append(term)
    return out


def _term(token):
    return _EDGE.sub("", token.lower())


_YELP_HAT_DESCR = """\
yelp_hat: Yelp reviews with crowd sentiment labels and crowd rationales (YELP-HAT).

300 Yelp restaurant reviews of about 50 words, each read by 3 Amazon
Mechanical Turk workers who answered "is this review positive?" (yes / no /
idk) and highlighted the words that justify their answer. "idk" answers (31)
and the 3 empty answers are missing class labels (34 of 900); workers are
anonymous, so the answer order is used as the worker (3 columns). The gold
polarity comes with the reviews (the workers agree with it on 99.3% of their
yes/no answers).

- crowd (300, 3): 1 (positive), 0 (negative), NaN ("idk" or no answer).
- tokens / token_masks: each review as its whitespace tokens, and for each
  worker a 0/1 mask of the tokens they highlighted (a <span class="active">
  in the source's HTML).
- rationales (300, 3, n_terms): the same highlights on the vocabulary of
  rationale_terms (lowercased tokens, punctuation stripped at the edges).

Source (cite when you use it):
Sen, C., Hartvigsen, T., Yin, B., Kong, X. and Rundensteiner, E. (2020).
Human attention maps for text classification: do humans and neural networks
focus on the same words? Proceedings of ACL 2020, 4596-4608. Data:
github.com/cansusen/Human-Attention-for-Text-Classification (YELP-HAT part 1,
ham_part1_50words.csv), bundled unchanged.
"""


def load_yelp_hat():
    """Load YELP-HAT part 1: reviews, crowd labels and crowd highlights.

    300 Yelp reviews of about 50 words, each read by 3 workers who said
    whether it is positive (yes / no / "idk") and highlighted the words that
    justify their answer (Sen, Hartvigsen, Yin, Kong & Rundensteiner,
    "Human attention maps for text classification: do humans and neural
    networks focus on the same words?", ACL 2020; cite it when you use the
    data). The HTML of each answer (one ``<span>`` per whitespace token,
    ``class="active"`` when highlighted) is parsed into per-worker token
    masks; "idk" (and the 3 empty) answers are missing class labels. The
    data (114 KB) is bundled in the package: no download.

    Returns
    -------
    data : Bunch
        With keys

        - ``texts``: list of 300 str, the reviews (tokens joined by spaces,
          HTML entities decoded);
        - ``tokens``: list of 300 lists of str, the whitespace tokens;
        - ``token_masks``: list of 300 uint8 arrays of shape
          ``(3, n_tokens)``, the tokens each worker highlighted;
        - ``crowd``: ndarray of shape (300, 3), float, 1 (positive), 0
          (negative) or NaN ("idk" or no answer), workers in answer order;
        - ``y_gold``: ndarray of shape (300,), int, the gold polarity;
        - ``vocabulary``: ndarray of str, the sorted terms of the reviews
          (:func:`rationale_terms`);
        - ``token_terms``: list of 300 int arrays, the vocabulary index of
          each token (-1 for a token with no term, e.g. ``"-"``);
        - ``rationales``: ``scipy.sparse.coo_array`` of shape
          ``(300, 3, n_terms)``, 1 where a worker highlighted a token of that
          term in that review;
        - ``frame``: DataFrame, the source table (one row per answer);
        - ``DESCR``: str, description and citation.

    Examples
    --------
    >>> from skcrowd.datasets import load_yelp_hat
    >>> data = load_yelp_hat()
    >>> data.crowd.shape, data.rationales.shape[:2], len(data.tokens)
    ((300, 3), (300, 3), 300)
    >>> int((data.crowd == data.y_gold[:, None]).sum())
    860
    >>> words = data.tokens[0]
    >>> [w for w, m in zip(words, data.token_masks[0][0]) if m][:3]
    ['glad', 'very', 'friendly.']
    """
    import pandas as pd

    path = resources.files("skcrowd.datasets").joinpath("data", "yelp_hat_part1.csv.gz")
    with path.open("rb") as f:
        frame = pd.read_csv(f, compression="gzip", keep_default_na=False)
    # reviews in order of first appearance; answers in order within a review
    review = pd.factorize(frame["Input.text"])[0]
    n_items = int(review.max()) + 1
    slot = frame.groupby(review).cumcount().to_numpy()
    n_workers = int(slot.max()) + 1

    tokens = [None] * n_items
    masks = [None] * n_items
    crowd = np.full((n_items, n_workers), np.nan)
    y_gold = np.zeros(n_items, dtype=np.int64)
    answer_code = {"yes": 1.0, "no": 0.0}
    for row, (i, r) in enumerate(zip(review, slot, strict=True)):
        spans = _SPAN.findall(frame["Answer.html_output"].iat[row])
        words = [html.unescape(w) for _, w in spans]
        keep = [k for k, w in enumerate(words) if w.strip()]
        words = [words[k] for k in keep]
        active = np.array(["active" in spans[k][0].split() for k in keep], np.uint8)
        if tokens[i] is None:
            tokens[i] = words
            masks[i] = np.zeros((n_workers, len(words)), dtype=np.uint8)
        elif words != tokens[i]:
            raise RuntimeError(f"The answers to review {i} show different texts.")
        masks[i][r] = active
        crowd[i, r] = answer_code.get(frame["Answer.Q1Answer"].iat[row], np.nan)
        y_gold[i] = int(frame["Input.label"].iat[row])

    vocabulary = np.array(
        sorted({t for words in tokens for t in map(_term, words) if t}), dtype=object
    )
    index = {t: k for k, t in enumerate(vocabulary)}
    token_terms = [
        np.array([index.get(_term(w), -1) for w in words], dtype=np.int64)
        for words in tokens
    ]
    rows, cols, terms = [], [], []
    for i in range(n_items):
        r, k = np.nonzero(masks[i])
        t = token_terms[i][k]
        pairs = np.unique(np.column_stack([r, t])[t >= 0], axis=0)
        rows.append(np.full(len(pairs), i))
        cols.append(pairs[:, 0])
        terms.append(pairs[:, 1])
    coords = tuple(np.concatenate(c).astype(np.int64) for c in (rows, cols, terms))
    rationales = sp.coo_array(
        (np.ones(len(coords[0]), dtype=np.uint8), coords),
        shape=(n_items, n_workers, len(vocabulary)),
    )
    return Bunch(
        texts=[" ".join(words) for words in tokens],
        tokens=tokens,
        token_masks=masks,
        crowd=crowd,
        y_gold=y_gold,
        vocabulary=vocabulary,
        token_terms=token_terms,
        rationales=rationales,
        frame=frame,
        DESCR=_YELP_HAT_DESCR,
    )
