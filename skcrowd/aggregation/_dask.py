"""Out-of-core and distributed aggregation on Dask.

(User guide: :ref:`dask_aggregation`.)

:class:`~skcrowd.aggregation.DawidSkene`,
:class:`~skcrowd.aggregation.OneCoinDawidSkene`,
:class:`~skcrowd.aggregation.GLAD` and
:class:`~skcrowd.aggregation.MajorityVote` accept, besides a crowd matrix, a
``dask.dataframe.DataFrame`` in long format, one row per label::

    import dask.dataframe as dd
    from distributed import Client, LocalCluster
    from skcrowd.aggregation import DawidSkene

    client = Client(LocalCluster(n_workers=2))        # or any cluster
    df = dd.read_parquet("labels/")                   # task, worker, label
    ds = DawidSkene().fit(df)
    ds.confusion_                                     # in memory (driver)
    ds.proba_.compute()                               # items: lazy until asked

**The table.** Columns ``task``, ``worker`` and ``label`` (crowd-kit's
names), or ``task`` as the index. Ids may be ints or strings; rows whose
label is missing (``NaN``/``None``/``missing_label``) are dropped; one
worker labels a task at most once.

**Partitions must be aligned on tasks**: all the labels of a task in one
partition. A Parquet data set written task by task, ``df.set_index("task")``
(known divisions: nothing is checked) or ``df.shuffle(on="task")`` all
qualify. The first pass checks it (from each partition's task range, or,
when the ranges overlap, from the tasks themselves) and raises a
``ValueError`` that says how to fix it.

**What runs where.** The first pass reads the table once to build the
encodings of the workers and the classes (computed once, shipped to every
task) and counts each partition's tasks. Then each EM iteration is one
map-reduce pass: every partition is read and encoded again (nothing is
cached: the table may be far larger than the cluster's memory), its items'
posteriors are computed from the current worker parameters (the E-step, per
partition, as the items are independent given them), and so are the
partition's sufficient statistics of the M-step (expected confusion counts,
correct-answer counts, class totals: sums over labels); the statistics of
the partitions are summed by a tree reduction, and the driver updates the
worker parameters. The computation runs on whatever scheduler is active:
the ``distributed.Client`` if there is one, else Dask's local threads. The
loop is the aggregators' one EM loop (``BaseEMAggregator._run_em``), so
the result equals the in-memory fit on the same crowd to rounding:
same initialisation (the majority vote), same iterations, same stopping
rule.

**Results.** The worker parameters (``confusion_``, ``skill_``,
``alphas_``, ``class_prior_``), ``n_iter_``, ``log_likelihood_`` and the
per-worker report are in memory; ``workers_`` holds the worker id of each
row of them. The per-item results are lazy Dask collections indexed by task,
computed per partition when asked for: ``proba_`` (a DataFrame, one column
per class), ``labels_`` (a Series) and, for GLAD, ``betas_``.
``predict_proba``/``predict`` on a Dask DataFrame return lazy collections
too.

**Limits.** ``y_gold`` is not supported with a Dask DataFrame.
MajorityVote breaks ties with a generator seeded per partition from
``random_state``, so the labels of tied items can differ from the in-memory
fit (``proba_``, the vote fractions, do not). GLAD's M-step optimises all
abilities and difficulties jointly with L-BFGS-B on the driver: each
function evaluation is one pass over the data (about ``m_step_max_iter +
2`` passes per EM iteration) and the driver holds the items' difficulties
(8 bytes per item, and their slices travel with each pass), so GLAD scales
to as many items as the driver holds, not further.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state

from ..utils.validation import CrowdMatrix, _check_label_type, is_missing_label
from ._backend import CrowdArrays, NumpyBackend, StreamingBackend

__all__ = ["DaskEM", "fit_dask", "labels_from_proba", "predict_proba_dask"]

TASK, WORKER, LABEL = "task", "worker", "label"
_STREAM = StreamingBackend()
_NUMPY = NumpyBackend()
_FAN_IN = 8
_INT32_MAX = np.iinfo(np.int32).max
#: integer ids spanning fewer values than this are encoded with a lookup table
_LUT_SPAN = 1 << 24


# -- the table -----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CrowdSpec:
    """How to read and encode every partition of a long-format crowd."""

    task_in_index: bool
    missing_label: object
    classes: np.ndarray | None = None
    workers: np.ndarray | None = None
    n_items: tuple = ()
    n_labels: int = 0
    task_dtype: object = None
    luts: dict = field(default_factory=dict)

    @property
    def offsets(self):
        return np.concatenate([[0], np.cumsum(self.n_items, dtype=np.int64)])

    @property
    def n_samples(self):
        return int(sum(self.n_items))


def _column_values(col):
    """A pandas column as numpy (nullable columns holding NA: as objects)."""
    if not isinstance(col.dtype, np.dtype) and col.isna().any():
        return np.asarray(col.to_numpy(dtype=object))
    return np.asarray(col.to_numpy())


def _observed(pdf, spec):
    """Task, worker and label values of the rows with an observed label."""
    labels = _column_values(pdf[LABEL])
    workers = _column_values(pdf[WORKER])
    tasks = np.asarray(pdf.index.to_numpy() if spec.task_in_index else (
        _column_values(pdf[TASK])
    ))
    keep = ~is_missing_label(labels, spec.missing_label)
    if not keep.all():
        tasks, workers, labels = tasks[keep], workers[keep], labels[keep]
    return tasks, workers, labels


def _make_lut(values):
    """``(low, table)`` mapping small-range integer ids to codes, or None."""
    if values.dtype.kind not in "iu" or len(values) == 0:
        return None
    low, high = int(values.min()), int(values.max())
    if high - low >= _LUT_SPAN:
        return None
    table = np.full(high - low + 1, -1, dtype=np.int32)
    table[values.astype(np.int64) - low] = np.arange(len(values), dtype=np.int32)
    return low, table


def _codes(values, known, lut):
    """Codes of ``values`` among the sorted ``known`` ids; -1 when unknown."""
    if lut is not None and values.dtype.kind in "iu":
        low, table = lut
        if len(values) == 0:
            return np.zeros(0, dtype=np.int32)
        if int(values.min()) >= low and int(values.max()) < low + len(table):
            return table[values] if low == 0 else table[values.astype(np.int64) - low]
        shifted = values.astype(np.int64) - low
        inside = (shifted >= 0) & (shifted < len(table))
        codes = np.full(len(values), -1, dtype=np.int32)
        codes[inside] = table[shifted[inside]]
        return codes
    codes = pd.Index(known).get_indexer(values)
    return codes.astype(np.int32) if len(known) <= _INT32_MAX else codes


def _factorize_tasks(tasks):
    """Local item codes (first-appearance order) and the tasks they name."""
    if tasks.dtype.kind in "iu" and len(tasks) > 1:
        step = tasks[1:] != tasks[:-1]
        if (tasks[1:] >= tasks[:-1]).all():  # sorted: a cumulative sum suffices
            codes = np.empty(len(tasks), dtype=np.int64)
            codes[0] = 0
            np.cumsum(step, out=codes[1:])
            return codes, tasks[np.concatenate([[True], step])]
    codes, uniques = pd.factorize(tasks)
    if len(codes) and codes.min() < 0:
        raise ValueError("task ids contain missing values (NaN/None).")
    return codes, np.asarray(uniques)


def _encode(pdf, spec):
    """The partition as a :class:`CrowdMatrix` (global worker and class codes,
    local item codes) and the task id of each of its items."""
    tasks, workers, labels = _observed(pdf, spec)
    item, uniques = _factorize_tasks(tasks)
    worker = _codes(workers, spec.workers, spec.luts.get("workers"))
    label = _codes(labels, spec.classes, spec.luts.get("classes"))
    if len(worker) and worker.min() < 0:
        unknown = pd.unique(workers[worker < 0])[:5].tolist()
        raise ValueError(
            f"Workers {unknown} are not among the workers of the fitted crowd."
        )
    if len(label) and label.min() < 0:
        unknown = pd.unique(labels[label < 0])[:5].tolist()
        raise ValueError(
            f"Labels {unknown} are not among the classes {spec.classes.tolist()}."
        )
    small = len(uniques) <= _INT32_MAX
    crowd = CrowdMatrix(
        item=item.astype(np.int32) if small else item,
        worker=worker,
        label=label.astype(np.int32),
        classes=spec.classes,
        n_samples=len(uniques),
        n_workers=len(spec.workers),
        sparse_input=True,
    )
    return crowd, uniques


def _task_index(uniques, spec):
    index = pd.Index(uniques, name=TASK)
    if spec.task_dtype is not None:
        try:
            index = index.astype(spec.task_dtype)
        except (TypeError, ValueError):
            pass
    return index


def _check_frame(df):
    cols = list(df.columns)
    task_in_index = TASK not in cols and df.index.name == TASK
    missing = [c for c in (WORKER, LABEL) if c not in cols]
    if not task_in_index and TASK not in cols:
        missing.insert(0, TASK)
    if missing:
        raise ValueError(
            f"A Dask crowd is a long table with columns 'task' (or a 'task' "
            f"index), 'worker' and 'label'; {missing} missing (columns: {cols})."
        )
    columns = [WORKER, LABEL] if task_in_index else [TASK, WORKER, LABEL]
    meta = df._meta
    task_dtype = meta.index.dtype if task_in_index else meta[TASK].dtype
    return df[columns], task_in_index, task_dtype


# -- passes over the partitions --------------------------------------------------
def _scan_partition(pdf, spec, with_tasks):
    tasks, workers, labels = _observed(pdf, spec)
    item, uniques = _factorize_tasks(tasks)
    if is_missing_label(workers).any():
        raise ValueError("worker ids contain missing values (NaN/None).")
    wcodes, wuniques = pd.factorize(workers)
    key = item.astype(np.int64) * max(len(wuniques), 1) + wcodes
    key.sort()
    if len(key) > 1 and (key[1:] == key[:-1]).any():
        key = item.astype(np.int64) * max(len(wuniques), 1) + wcodes
        dup = pd.Series(key).duplicated().to_numpy()
        pairs = list(zip(tasks[dup][:5].tolist(), workers[dup][:5].tolist(),
                         strict=True))
        raise ValueError(
            f"{int(dup.sum())} labels repeat a (task, worker) pair, e.g. {pairs}: "
            "a worker labels a task at most once. Drop the duplicates first."
        )
    try:
        span = (uniques.min(), uniques.max()) if len(uniques) else None
    except TypeError:
        span = "unordered"
    return {
        "n_items": len(uniques),
        "n_labels": len(labels),
        "workers": np.asarray(wuniques),
        "labels": np.asarray(pd.unique(labels)),
        "span": span,
        "tasks": uniques if with_tasks else None,
    }


def _em_partition(pdf, static, shared, local):
    """E-step from the current parameters, and the M-step's statistics."""
    spec, aggregator = static
    crowd = _STREAM.view(_encode(pdf, spec)[0])
    state = aggregator._init_params(crowd)
    if shared is None:  # the initial pass: the majority vote
        proba, log_evidence = _STREAM.vote_proba(crowd), 0.0
    else:
        joint = aggregator._e_step(crowd, {**shared, **local}, state)
        proba, evidence = _STREAM.normalize_log(joint)
        log_evidence = float(evidence.sum())
    stats = aggregator._suff_stats(crowd, proba, state)
    stats["_log_evidence"] = np.float64(log_evidence)
    return stats, None


def _final_partition(pdf, static, shared, local):
    """Worker report sums under the final parameters (labels, agreement)."""
    spec, aggregator = static
    crowd = _STREAM.view(_encode(pdf, spec)[0])
    proba, codes = _partition_posterior(crowd, aggregator, shared, local)
    hit = (codes[crowd.item] == crowd.label).astype(np.float64)
    sums = {
        "n": np.bincount(crowd.worker, minlength=crowd.n_workers),
        "agree": np.bincount(crowd.worker, weights=hit, minlength=crowd.n_workers),
    }
    if hasattr(aggregator, "_skill_sums"):  # GLAD
        params = {**shared, **local}
        sums["skill_total"] = aggregator._skill_sums(crowd, params)[1]
    return sums, None


def _partition_posterior(crowd, aggregator, shared, local):
    """Posterior and label codes of a partition's items after the fit."""
    if shared.get("_vote"):  # MajorityVote
        proba = _STREAM.vote_proba(crowd)
        if proba.shape[0] == 0:
            return proba, np.zeros(0, dtype=np.int64)
        seed = np.random.RandomState([shared["seed"], local["partition"]])
        return proba, _break_ties(proba, seed)
    state = aggregator._init_params(crowd)
    params = {k: v for k, v in {**shared, **local}.items() if k != "partition"}
    joint = aggregator._e_step(crowd, params, state)
    proba = _STREAM.normalize_log(joint)[0]
    return proba, np.argmax(proba, axis=1)


def _break_ties(proba, seed):
    from ._majority_vote import break_ties

    return break_ties(proba, seed)


def _proba_frame(pdf, static, shared, local, what):
    spec, aggregator = static
    crowd, uniques = _encode(pdf, spec)
    index = _task_index(uniques, spec)
    view = _STREAM.view(crowd)
    if what == "betas":
        return pd.Series(np.exp(local["b"]), index=index, name="beta")
    proba, codes = _partition_posterior(view, aggregator, shared, local)
    if what == "labels":
        return pd.Series(spec.classes[codes], index=index, name=LABEL)
    return pd.DataFrame(proba, index=index, columns=pd.Index(spec.classes))


def _glad_q_partition(pdf, static, shared, local):
    """GLAD: the label terms of minus Q at (alpha, b) for one partition."""
    spec, aggregator = static
    crowd = _STREAM.view(_encode(pdf, spec)[0])
    state = aggregator._init_params(crowd)
    source = shared["source"]
    if source is None:
        proba = _STREAM.vote_proba(crowd)
    else:
        params = {**source, **local["source"]}
        proba = _STREAM.normalize_log(aggregator._e_step(crowd, params, state))[0]
    p = proba.reshape(-1)[state["cell"]]
    q, grad_alpha, grad_b = aggregator._neg_q_labels(
        shared["alpha"], local["b"], crowd, p
    )
    return {"q": np.float64(q), "grad_alpha": grad_alpha}, grad_b


def _predict_partition(pdf, static):
    spec, aggregator = static
    crowd, uniques = _encode(pdf, spec)
    proba = aggregator._posterior(crowd) if crowd.n_samples else np.zeros(
        (0, len(spec.classes))
    )
    return pd.DataFrame(
        proba, index=_task_index(uniques, spec), columns=pd.Index(spec.classes)
    )


def _add(*parts):
    total = dict(parts[0])
    for part in parts[1:]:
        for key, value in part.items():
            total[key] = total[key] + value
    return total


def _first(pair):
    return pair[0]


def _second(pair):
    return pair[1]


class _Partitions:
    """The partitions of a long table and the map-reduce passes over them."""

    def __init__(self, df, spec, aggregator):
        import dask

        self.parts = df.to_delayed()
        self.spec = spec
        self.static = dask.delayed((spec, clone(aggregator)), traverse=False)

    def run(self, fn, shared=None, local=None, collect=False):
        """One pass: ``fn`` on every partition; sums reduced, locals listed.

        ``fn(pdf, static, shared, local_j)`` returns ``(sums, local_out)``:
        the dicts ``sums`` of the partitions are added up (a tree
        reduction), the ``local_out`` are returned in partition order when
        ``collect`` is true.
        """
        import dask

        shared_d = dask.delayed(shared, traverse=False)
        outs = [
            dask.delayed(fn)(
                part, self.static, shared_d, None if local is None else local[j]
            )
            for j, part in enumerate(self.parts)
        ]
        level = [dask.delayed(_first)(o) for o in outs]
        while len(level) > 1:
            level = [
                dask.delayed(_add)(*level[i : i + _FAN_IN])
                for i in range(0, len(level), _FAN_IN)
            ]
        extra = [dask.delayed(_second)(o) for o in outs] if collect else []
        results = dask.compute(level[0], *extra)
        return results[0], list(results[1:])

    def lazy(self, fn, meta, shared=None, local=None, **kwargs):
        """A Dask collection of ``fn``'s frames, one per partition."""
        import dask
        import dask.dataframe as dd

        shared_d = dask.delayed(shared, traverse=False)
        frames = [
            dask.delayed(fn)(
                part,
                self.static,
                shared_d,
                None if local is None else local[j],
                **kwargs,
            )
            for j, part in enumerate(self.parts)
        ]
        return dd.from_delayed(frames, meta=meta, verify_meta=False)


# -- the EM engine ---------------------------------------------------------------
class DaskEM:
    """The EM loop's data when the crowd is a Dask DataFrame (see module doc).

    ``initial`` and ``e_step`` are map-reduce passes returning a handle
    ``{"stats": summed sufficient statistics, "source": the parameters
    whose posterior they are}``; ``m_step`` turns it into parameters on the
    driver (GLAD: with a pass per L-BFGS-B function evaluation).
    """

    xp = _NUMPY

    def __init__(self, aggregator, partitions):
        self.aggregator = aggregator
        self.partitions = partitions
        spec = partitions.spec
        self.spec = spec
        self.n_labels = spec.n_labels
        empty = np.zeros(0, dtype=np.int32)
        # the driver's state: the hooks' global precomputation (priors,
        # pseudo-counts, warm starts), built from a crowd of the right sizes
        # and no labels
        self.driver_crowd = CrowdArrays(
            item=empty,
            worker=empty,
            label=empty,
            n_samples=spec.n_samples,
            n_workers=len(spec.workers),
            n_classes=len(spec.classes),
            xp=_NUMPY,
        )
        self.state = aggregator._init_params(self.driver_crowd)
        self.item_params = getattr(aggregator, "_item_params", ())

    def split(self, params):
        """Parameters shared by all partitions, and each partition's slices."""
        if params is None:
            return None, [{} for _ in self.spec.n_items]
        shared = {k: v for k, v in params.items() if k not in self.item_params}
        offsets = self.spec.offsets
        local = [
            {k: params[k][offsets[j] : offsets[j + 1]] for k in self.item_params}
            for j in range(len(self.spec.n_items))
        ]
        return shared, local

    def _pass(self, params):
        shared, local = self.split(params)
        stats = self.partitions.run(_em_partition, shared, local)[0]
        log_evidence = float(stats.pop("_log_evidence"))
        return {"stats": stats, "source": params}, log_evidence

    def initial(self):
        return self._pass(None)[0]

    def m_step(self, handle):
        if hasattr(self.aggregator, "_dask_m_step"):
            return self.aggregator._dask_m_step(self, handle, self.state)
        return self.aggregator._m_step_from_stats(handle["stats"], self.state)

    def e_step(self, params):
        return self._pass(params)

    def finish(self, params, handle):
        """Fitted attributes, the worker report, and the lazy item results."""
        aggregator = self.aggregator
        aggregator._set_fitted(params, self.state)
        shared, local = self.split(params)
        sums = self.partitions.run(_final_partition, shared, local)[0]
        _set_worker_report(aggregator, sums)
        if "skill_total" in sums:
            aggregator.skill_ = aggregator._skill_from_sums(
                sums["n"], sums["skill_total"], params["alpha"]
            )
        _set_lazy_results(aggregator, self.partitions, shared, local)
        if "b" in self.item_params:
            aggregator.betas_ = self.partitions.lazy(
                _proba_frame,
                pd.Series([], dtype=float, name="beta", index=_meta_index(self.spec)),
                shared,
                local,
                what="betas",
            )
        return aggregator.proba_


def glad_m_step(aggregator, engine, handle, state):
    """GLAD's M-step on Dask: L-BFGS-B on the driver, one pass per evaluation."""
    source_shared, source_local = engine.split(handle["source"])
    offsets = engine.spec.offsets

    def fun(alpha, b):
        local = [
            {"source": source_local[j], "b": b[offsets[j] : offsets[j + 1]]}
            for j in range(len(offsets) - 1)
        ]
        sums, grad_b = engine.partitions.run(
            _glad_q_partition,
            {"source": source_shared, "alpha": alpha},
            local,
            collect=True,
        )
        grad_b = np.concatenate(grad_b) if grad_b else np.zeros(0)
        return aggregator._neg_q_prior(
            alpha, b, float(sums["q"]), sums["grad_alpha"], grad_b
        )

    alpha, b = aggregator._lbfgs(fun, state)
    return {
        "alpha": alpha,
        "b": b,
        "prior": aggregator._class_prior(handle["stats"]["prior"], state),
    }


# -- fit and predict ---------------------------------------------------------------
def _meta_index(spec):
    return pd.Index([], dtype=spec.task_dtype, name=TASK)


def _set_worker_report(aggregator, sums):
    n = sums["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        aggregator._agreement_ = np.where(
            n > 0, sums["agree"] / np.maximum(n, 1), np.nan
        )
    aggregator._n_labels_ = n


def _set_lazy_results(aggregator, partitions, shared, local):
    spec = partitions.spec
    meta = pd.DataFrame(
        {c: pd.Series([], dtype=float) for c in range(len(spec.classes))},
        index=_meta_index(spec),
    )
    meta.columns = pd.Index(spec.classes)
    aggregator.proba_ = partitions.lazy(_proba_frame, meta, shared, local, what="proba")
    aggregator.labels_ = partitions.lazy(
        _proba_frame,
        pd.Series([], dtype=spec.classes.dtype, name=LABEL, index=_meta_index(spec)),
        shared,
        local,
        what="labels",
    )


def _scan(df, aggregator, task_in_index, task_dtype, known_divisions):
    """The first pass: encodings, per-partition item counts, checks."""
    import dask

    from ..utils._long import _factorize

    spec0 = CrowdSpec(task_in_index, aggregator.missing_label)
    parts = df.to_delayed()
    scans = dask.compute(
        *[dask.delayed(_scan_partition)(p, spec0, False) for p in parts]
    )
    if not known_divisions:
        _check_aligned(scans, parts, spec0)
    n_labels = sum(s["n_labels"] for s in scans)
    if n_labels == 0:
        raise ValueError(
            "The Dask crowd has no observed label: every label is missing "
            f"(missing_label={aggregator.missing_label!r})."
        )
    workers = _factorize(np.concatenate([s["workers"] for s in scans]), "worker")[0]
    observed = np.concatenate([s["labels"] for s in scans])
    if observed.dtype.kind == "O":
        from ..utils.validation import _tighten_object

        observed = _tighten_object(observed)
    _check_label_type(observed)
    try:
        classes = np.unique(observed)
    except TypeError as exc:
        raise ValueError(
            f"The crowd holds labels that cannot be compared: {exc}"
        ) from None
    luts = {}
    for name, values in (("workers", workers), ("classes", classes)):
        lut = _make_lut(values)
        if lut is not None:
            luts[name] = lut
    return CrowdSpec(
        task_in_index=task_in_index,
        missing_label=aggregator.missing_label,
        classes=classes,
        workers=workers,
        n_items=tuple(int(s["n_items"]) for s in scans),
        n_labels=int(n_labels),
        task_dtype=task_dtype,
        luts=luts,
    )


def _check_aligned(scans, parts, spec0):
    """Raise unless every task's labels are in one partition."""
    import dask

    spans = [s["span"] for s in scans if s["span"] is not None]
    if all(isinstance(s, tuple) for s in spans):
        try:
            spans = sorted(spans, key=lambda s: s[0])
            if all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False)):
                return
        except TypeError:
            pass
    tasks = dask.compute(
        *[dask.delayed(_scan_partition)(p, spec0, True)["tasks"] for p in parts]
    )
    index = pd.Index(np.concatenate([np.asarray(t, dtype=object) for t in tasks]))
    if index.has_duplicates:
        shared = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(
            "The Dask crowd's partitions are not aligned on tasks: the labels of "
            f"tasks {shared} are spread over several partitions. Partition the "
            "table by task first, e.g. df.set_index('task') or "
            "df.shuffle(on='task'), or write it task by task."
        )


def fit_dask(aggregator, df, y_gold=None):
    """Fit ``aggregator`` on a long-format Dask DataFrame (see module doc)."""
    name = type(aggregator).__name__
    if not aggregator._supports_dask:
        raise TypeError(
            f"{name} does not accept a Dask DataFrame; DawidSkene, "
            "OneCoinDawidSkene, GLAD and MajorityVote do."
        )
    if y_gold is not None:
        raise ValueError(f"y_gold is not supported when {name} fits a Dask DataFrame.")
    if getattr(aggregator, "backend", "numpy") != "numpy":
        raise ValueError(
            f"{name}(backend={aggregator.backend!r}) fits in memory only; on a "
            "Dask DataFrame the partitions run on numpy (use backend='numpy')."
        )
    df, task_in_index, task_dtype = _check_frame(df)
    known = bool(task_in_index and df.known_divisions)
    spec = _scan(df, aggregator, task_in_index, task_dtype, known)
    aggregator.classes_ = spec.classes
    aggregator.workers_ = spec.workers
    aggregator.n_workers_ = len(spec.workers)
    aggregator.n_features_in_ = len(spec.workers)
    if hasattr(aggregator, "feature_names_in_"):
        del aggregator.feature_names_in_
    partitions = _Partitions(df, spec, aggregator)
    if hasattr(aggregator, "_run_em"):
        aggregator._run_em(DaskEM(aggregator, partitions))
        return aggregator
    # MajorityVote: one pass for the worker report, the rest lazy
    seed = check_random_state(aggregator.random_state).randint(_INT32_MAX)
    shared = {"_vote": True, "seed": seed}
    local = [{"partition": j} for j in range(len(spec.n_items))]
    sums = partitions.run(_final_partition, shared, local)[0]
    _set_worker_report(aggregator, sums)
    aggregator.skill_ = aggregator._agreement_
    _set_lazy_results(aggregator, partitions, shared, local)
    return aggregator


def predict_proba_dask(aggregator, df):
    """Lazy posterior of the tasks of a long-format Dask DataFrame."""
    import dask
    import dask.dataframe as dd

    df, task_in_index, task_dtype = _check_frame(df)
    workers = getattr(aggregator, "workers_", None)
    if workers is None:
        workers = getattr(aggregator, "feature_names_in_", None)
    if workers is None:
        workers = np.arange(aggregator.n_workers_)
    classes = np.asarray(aggregator.classes_)
    luts = {}
    for key, values in (("workers", np.asarray(workers)), ("classes", classes)):
        lut = _make_lut(values)
        if lut is not None:
            luts[key] = lut
    spec = CrowdSpec(
        task_in_index=task_in_index,
        missing_label=aggregator.missing_label,
        classes=classes,
        workers=np.asarray(workers),
        task_dtype=task_dtype,
        luts=luts,
    )
    static = dask.delayed((spec, aggregator), traverse=False)
    frames = [dask.delayed(_predict_partition)(p, static) for p in df.to_delayed()]
    meta = pd.DataFrame(
        {c: pd.Series([], dtype=float) for c in range(len(classes))},
        index=_meta_index(spec),
    )
    meta.columns = pd.Index(classes)
    return dd.from_delayed(frames, meta=meta, verify_meta=False)


def _labels_partition(proba, aggregator):
    codes = aggregator._argmax(proba.to_numpy()) if len(proba) else np.zeros(
        0, dtype=np.int64
    )
    return pd.Series(aggregator.classes_[codes], index=proba.index, name=LABEL)


def labels_from_proba(aggregator, proba):
    """Lazy labels (argmax of each partition's posterior)."""
    meta = pd.Series(
        [], dtype=np.asarray(aggregator.classes_).dtype, name=LABEL,
        index=proba._meta.index,
    )
    return proba.map_partitions(_labels_partition, aggregator, meta=meta)
