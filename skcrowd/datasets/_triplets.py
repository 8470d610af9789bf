"""Triplet data: coloured digits with simulated multiview workers, and Food-100.

Nothing here imports torch.
"""

from __future__ import annotations

from importlib import resources
from numbers import Integral

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = ["load_food100", "make_multiview_triplets", "simulate_multiview_triplets"]

#: The ten tints of the coloured digits (RGB in [0, 1]).
COLORS = np.array(
    [
        [1.00, 0.10, 0.10],  # red
        [0.10, 0.80, 0.10],  # green
        [0.15, 0.35, 1.00],  # blue
        [1.00, 0.85, 0.00],  # yellow
        [0.95, 0.15, 0.95],  # magenta
        [0.00, 0.90, 0.90],  # cyan
        [1.00, 0.50, 0.00],  # orange
        [0.55, 0.10, 1.00],  # purple
        [0.55, 0.30, 0.10],  # brown
        [0.95, 0.95, 0.95],  # white
    ]
)
COLOR_NAMES = (
    "red",
    "green",
    "blue",
    "yellow",
    "magenta",
    "cyan",
    "orange",
    "purple",
    "brown",
    "white",
)


def _draw_other(rng, pool_sorted, starts, sizes, values, anchors_pos, same):
    """For each anchor, a random pool member with the same / another value.

    ``pool_sorted`` lists the pool ordered by value; a value ``x`` occupies
    ``[starts[x], starts[x] + sizes[x])`` and the anchor sits at
    ``anchors_pos`` in that order.
    """
    start, size = starts[values], sizes[values]
    if same:
        r = (rng.random_sample(len(values)) * (size - 1)).astype(np.int64)
        pos = start + r
        pos = pos + (pos >= anchors_pos)  # skip the anchor itself
    else:
        r = (rng.random_sample(len(values)) * (len(pool_sorted) - size)).astype(
            np.int64
        )
        pos = np.where(r < start, r, r + size)  # skip the anchor's block
    return pool_sorted[pos]


def simulate_multiview_triplets(
    attributes,
    n_triplets,
    *,
    worker_views,
    noise=0.0,
    query="odd-one-out",
    objects=None,
    random_state=None,
):
    """Answers of workers who each judge similarity by one attribute (view).

    Each answer is drawn for a random worker ``m`` who looks at the view
    ``v = worker_views[m]`` only: an anchor ``a``, an object ``b`` sharing
    ``a``'s value of attribute ``v``, and an object ``c`` that does not. The
    other attributes are random, so a triplet can look different from
    another worker's view. With probability ``noise`` the worker answers at
    random instead.

    - ``query="odd-one-out"``: the row is ``(a, b, c)`` in random pair order
      (``(a, b)`` the chosen pair), or, for a random answer, any of the
      three pairs first.
    - ``query="anchor"``: the row ``(a, b, c)`` ("``a`` is closer to ``b``
      than to ``c``"), swapped to ``(a, c, b)`` for half the random answers.

    Parameters
    ----------
    attributes : array-like of shape (n_objects, n_attributes)
        Integer value of each attribute (one per view) of each object.
    n_triplets : int
        Number of answers.
    worker_views : array-like of shape (n_workers,)
        The attribute (column of ``attributes``) each worker judges by.
    noise : float, default=0.0
        Probability of a random answer, in [0, 1].
    query : {"odd-one-out", "anchor"}, default="odd-one-out"
        The kind of answer.
    objects : array-like of int, default=None
        Draw only among these objects (e.g. the held-out ones); ``None``: all.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    triplets : ndarray of shape (n_triplets, 3)
        Object indices (into ``attributes``) of each answer.
    workers : ndarray of shape (n_triplets,)
        The worker of each answer.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.datasets import simulate_multiview_triplets
    >>> attributes = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> rows, workers = simulate_multiview_triplets(
    ...     attributes, 5, worker_views=[0], random_state=0)
    >>> bool(np.all(attributes[rows[:, 0], 0] == attributes[rows[:, 1], 0]))
    True
    """
    attributes = np.asarray(attributes)
    if attributes.ndim != 2 or attributes.dtype.kind not in "iu":
        raise ValueError("attributes must be a 2-D integer array (objects x views).")
    worker_views = np.asarray(worker_views)
    if worker_views.ndim != 1 or worker_views.size == 0:
        raise ValueError("worker_views must be a non-empty 1-D array.")
    if worker_views.min() < 0 or worker_views.max() >= attributes.shape[1]:
        raise ValueError(
            f"worker_views must index the {attributes.shape[1]} attributes."
        )
    if not isinstance(n_triplets, Integral) or n_triplets < 0:
        raise ValueError(f"n_triplets must be a non-negative int; got {n_triplets}.")
    if not 0 <= noise <= 1:
        raise ValueError(f"noise must be in [0, 1]; got {noise}.")
    if query not in ("odd-one-out", "anchor"):
        raise ValueError(f"query must be 'odd-one-out' or 'anchor'; got {query!r}.")
    rng = check_random_state(random_state)
    pool = (
        np.arange(len(attributes))
        if objects is None
        else np.unique(np.asarray(objects, dtype=np.int64))
    )
    if len(pool) and (pool[0] < 0 or pool[-1] >= len(attributes)):
        raise ValueError(
            f"objects must index the {len(attributes)} rows of attributes; got "
            f"indices in [{pool[0]}, {pool[-1]}]."
        )
    workers = rng.randint(len(worker_views), size=n_triplets)
    views = worker_views[workers]
    rows = np.empty((n_triplets, 3), dtype=np.int64)
    for v in np.unique(views):
        sel = np.flatnonzero(views == v)
        values = attributes[pool, v]
        order = np.argsort(values, kind="stable")
        pool_sorted, values_sorted = pool[order], values[order]
        n_values = int(values.max()) + 1
        sizes = np.bincount(values_sorted, minlength=n_values)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        # anchors among objects whose value has a partner and an outsider
        ok = (sizes[values_sorted] >= 2) & (sizes[values_sorted] < len(pool))
        if not ok.any():
            raise ValueError(
                f"Attribute {v} leaves no triplet to draw: no value is shared by "
                "two objects while another value exists."
            )
        anchor_pos = rng.choice(np.flatnonzero(ok), size=len(sel))
        a = pool_sorted[anchor_pos]
        a_values = values_sorted[anchor_pos]
        b = _draw_other(rng, pool_sorted, starts, sizes, a_values, anchor_pos, True)
        c = _draw_other(rng, pool_sorted, starts, sizes, a_values, anchor_pos, False)
        rows[sel] = np.column_stack([a, b, c])
    random_answer = rng.random_sample(n_triplets) < noise
    if query == "odd-one-out":
        swap = rng.random_sample(n_triplets) < 0.5
        rows[swap] = rows[swap][:, [1, 0, 2]]
        odd = np.where(random_answer, rng.randint(3, size=n_triplets), 2)
        orders = np.array([[1, 2, 0], [0, 2, 1], [0, 1, 2]])[odd]
        rows = np.take_along_axis(rows, orders, axis=1)
    else:
        flip = random_answer & (rng.random_sample(n_triplets) < 0.5)
        rows[flip] = rows[flip][:, [0, 2, 1]]
    return rows, workers


def _tinted_digits(n_objects, n_colors, rng):
    from sklearn.datasets import load_digits

    digits = load_digits()
    replace = n_objects > len(digits.images)
    index = rng.choice(len(digits.images), size=n_objects, replace=replace)
    colour = rng.randint(n_colors, size=n_objects)
    shape = digits.images[index] / 16.0  # (n, 8, 8) in [0, 1]
    # a little variation of every object's tint and brightness
    tint = COLORS[colour] + rng.normal(scale=0.03, size=(n_objects, 3))
    tint = np.clip(tint * rng.uniform(0.8, 1.0, size=(n_objects, 1)), 0.0, 1.0)
    images = shape[:, :, :, None] * tint[:, None, None, :]  # (n, 8, 8, 3)
    return images, digits.target[index], colour


def make_multiview_triplets(
    n_objects=1000,
    n_triplets=20000,
    *,
    n_workers=4,
    worker_views=None,
    n_colors=10,
    noise=0.05,
    query="odd-one-out",
    test_size=None,
    n_test_triplets=None,
    random_state=None,
):
    """Coloured digits compared by workers who look at shape or at colour.

    The Colour-MNIST setting of Lu et al. (WWW 2023), offline: the 8x8
    digits bundled with scikit-learn (:func:`sklearn.datasets.load_digits`)
    are tinted with one of ``n_colors`` colours, so every object has two
    attributes, its digit (view 0, shape) and its colour (view 1). Simulated
    workers each judge by one of them (see
    :func:`simulate_multiview_triplets`).

    Parameters
    ----------
    n_objects : int, default=1000
        Number of coloured digits (drawn from the 1,797 digits, with
        replacement beyond).
    n_triplets : int, default=20000
        Number of answers (among the training objects when ``test_size``).
    n_workers : int, default=4
        Number of workers.
    worker_views : array-like of shape (n_workers,), default=None
        The view (0: digit, 1: colour) of each worker; ``None`` alternates
        ``0, 1, 0, 1, ...``.
    n_colors : int, default=10
        Number of colours, at most 10.
    noise : float, default=0.05
        Probability that a worker answers at random.
    query : {"odd-one-out", "anchor"}, default="odd-one-out"
        The kind of answer.
    test_size : float, default=None
        If given, this fraction of the objects is held out: ``data`` only
        compares training objects and ``test`` only held-out ones (the
        inductive setting).
    n_test_triplets : int, default=None
        Answers among the held-out objects; ``None``: ``n_triplets // 4``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    dataset : Bunch
        - ``data``: :class:`~skcrowd.embedding.TripletData` with the objects,
          the answers and the workers (training objects only, when
          ``test_size``);
        - ``test``: the held-out answers (``None`` without ``test_size``);
        - ``objects``: ``(n_objects, 192)`` features, the RGB images
          flattened channel first (``objects.reshape(-1, 3, 8, 8)``);
        - ``images``: ``(n_objects, 8, 8, 3)`` for display;
        - ``attributes``: ``(n_objects, 2)``, digit and colour;
          ``attribute_names``: ``["digit", "colour"]``;
        - ``worker_views``: ``(n_workers,)``, the view of each worker;
        - ``colors``: ``(n_colors, 3)`` RGB of the tints, ``color_names``;
        - ``test_objects``: indices of the held-out objects (or ``None``);
        - ``DESCR``.

    Examples
    --------
    >>> from skcrowd.datasets import make_multiview_triplets
    >>> ds = make_multiview_triplets(n_objects=100, n_triplets=500, random_state=0)
    >>> ds.objects.shape, ds.data.triplets.shape, ds.attributes.shape
    ((100, 192), (500, 3), (100, 2))
    >>> ds.worker_views.tolist()
    [0, 1, 0, 1]
    """
    from ..embedding._data import TripletData

    if not isinstance(n_objects, Integral) or n_objects < 4:
        raise ValueError(f"n_objects must be an int >= 4; got {n_objects}.")
    if not isinstance(n_colors, Integral) or not 2 <= n_colors <= len(COLORS):
        raise ValueError(f"n_colors must be an int in [2, 10]; got {n_colors}.")
    if not isinstance(n_workers, Integral) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive int; got {n_workers}.")
    if worker_views is None:
        worker_views = np.arange(n_workers) % 2
    worker_views = np.asarray(worker_views)
    if worker_views.shape != (n_workers,):
        raise ValueError(
            f"worker_views must have one view per worker ({n_workers}); got shape "
            f"{worker_views.shape}."
        )
    rng = check_random_state(random_state)
    images, digit, colour = _tinted_digits(n_objects, n_colors, rng)
    objects = images.transpose(0, 3, 1, 2).reshape(n_objects, -1)
    attributes = np.column_stack([digit, colour]).astype(np.int64)
    test = test_objects = None
    train_pool = None
    if test_size is not None:
        if not 0 < test_size < 1:
            raise ValueError(f"test_size must be in (0, 1); got {test_size}.")
        n_test = max(4, int(round(test_size * n_objects)))
        test_objects = np.sort(rng.choice(n_objects, n_test, replace=False))
        train_pool = np.setdiff1d(np.arange(n_objects), test_objects)
        if n_test_triplets is None:
            n_test_triplets = n_triplets // 4
        rows, workers = simulate_multiview_triplets(
            attributes,
            n_test_triplets,
            worker_views=worker_views,
            noise=noise,
            query=query,
            objects=test_objects,
            random_state=rng,
        )
        test = TripletData(rows, objects, workers)
    rows, workers = simulate_multiview_triplets(
        attributes,
        n_triplets,
        worker_views=worker_views,
        noise=noise,
        query=query,
        objects=train_pool,
        random_state=rng,
    )
    descr = (
        "Coloured digits: scikit-learn's 8x8 digits (UCI optical recognition of "
        f"handwritten digits) tinted with {n_colors} colours. Views: digit "
        f"(shape) and colour. {n_workers} simulated workers judge by view "
        f"{worker_views.tolist()} with noise {noise}. The Colour-MNIST setting "
        "of Lu, Li, Takeuchi & Kashima, WWW 2023."
    )
    return Bunch(
        data=TripletData(rows, objects, workers),
        test=test,
        objects=objects,
        images=images,
        attributes=attributes,
        attribute_names=["digit", "colour"],
        worker_views=worker_views,
        colors=COLORS[:n_colors].copy(),
        color_names=list(COLOR_NAMES[:n_colors]),
        test_objects=test_objects,
        DESCR=descr,
    )


_FOOD100_CITATION = (
    "Wilber, M. J., Kwak, I. S. and Belongie, S. J. (2014). Cost-effective "
    "HITs for relative similarity comparisons. Proceedings of the Second AAAI "
    "Conference on Human Computation and Crowdsourcing (HCOMP 2014), 227-233. "
    "Data as shipped in github.com/mperrot/AddS-Clustering."
)


def load_food100(*, unique=False, as_frame=False):
    """Load Food-100: crowdsourced triplets on 100 food images, with worker ids.

    250,320 answers ``anchor, near, far``: worker ``worker`` judged the image
    ``anchor`` closer (in taste/appearance of the dish) to ``near`` than to
    ``far`` (catch trials removed); 100 images, 243 workers. The images are
    not included, so the set is transductive: fit with
    ``query="anchor"`` on ``data`` (a :class:`~skcrowd.embedding.TripletData`
    without object features). cblearn's SOE and t-STE reach about 0.84
    held-out triplet accuracy at 10 dimensions.

    Source (cite when you use it): Wilber, Kwak & Belongie, "Cost-effective
    HITs for relative similarity comparisons", HCOMP 2014; as shipped in
    mperrot/AddS-Clustering. Bundled in ``skcrowd/datasets/data`` with values
    unchanged (``food100_triplets.csv.gz``, ``food100_objects.csv.gz``).

    Parameters
    ----------
    unique : bool, default=False
        Keep each distinct ``(anchor, near, far)`` row once (its first
        worker): 190,376 rows, the set used for the published held-out
        accuracies.
    as_frame : bool, default=False
        Also return the answers as a DataFrame in ``frame``.

    Returns
    -------
    dataset : Bunch
        - ``data``: :class:`~skcrowd.embedding.TripletData` (triplets and
          workers, ``n_objects=100``);
        - ``triplets``: ``(n, 3)`` int array ``anchor, near, far``;
        - ``workers``: ``(n,)`` worker ids;
        - ``object_names``: ``(100,)`` image file names;
        - ``frame``: the answers (with ``as_frame=True``), else ``None``;
        - ``DESCR``.

    Examples
    --------
    >>> from skcrowd.datasets import load_food100
    >>> food = load_food100()
    >>> food.triplets.shape, len(food.object_names), len(set(food.workers))
    ((250320, 3), 100, 243)
    """
    import pandas as pd

    from ..embedding._data import TripletData

    base = resources.files("skcrowd.datasets").joinpath("data")
    with base.joinpath("food100_triplets.csv.gz").open("rb") as f:
        frame = pd.read_csv(f, compression="gzip")
    with base.joinpath("food100_objects.csv.gz").open("rb") as f:
        names = pd.read_csv(f, compression="gzip")
    if unique:
        frame = frame.drop_duplicates(subset=["anchor", "near", "far"])
        frame = frame.reset_index(drop=True)
    triplets = frame[["anchor", "near", "far"]].to_numpy(dtype=np.int64)
    workers = frame["worker"].to_numpy()
    object_names = names.sort_values("object")["image"].to_numpy()
    descr = (
        "Food-100: relative similarity comparisons of 100 food images by "
        f"{len(np.unique(workers))} crowd workers, {len(triplets)} answers "
        "(anchor, near, far, worker): the worker judged anchor closer to near "
        "than to far.\n\nSource (cite when you use it):\n" + _FOOD100_CITATION
    )
    return Bunch(
        data=TripletData(triplets, workers=workers, n_objects=len(object_names)),
        triplets=triplets,
        workers=workers,
        object_names=object_names,
        frame=frame if as_frame else None,
        DESCR=descr,
    )
