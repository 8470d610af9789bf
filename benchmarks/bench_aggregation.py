"""Truth inference: skcrowd's aggregators side by side with crowd-kit.

One run measures every aggregator that ``skcrowd.aggregation`` exposes (picked
up at run time from a fixed list of names) and, when it is installed, every
classification aggregator of crowd-kit, on

1. the real crowds with gold labels in ``../shared/data`` (bluebirds, dog, rte,
   temp, product and the crowd-labelled training half of Music), skipped when
   the folder is absent;
2. a synthetic crowd of 1M labels (200k items, 1,000 workers of mixed
   quality, K=5, 5 labels per item, gold known from the generator);
3. a sparse synthetic crowd of 10M labels (2M items x 5 labels, 10,000
   workers), given to skcrowd as a ``scipy.sparse`` matrix.

It prints accuracy against gold, wall time, the ratios (crowd-kit time /
skcrowd time, accuracy differences) and a PASS/FAIL line per target:

- DawidSkene at least 10x faster than crowd-kit's at 1M labels, accuracy not
  more than 0.002 below crowd-kit's;
- GLAD at least 100x faster than crowd-kit's on product, accuracy at least
  crowd-kit's;
- Dawid-Skene on 10M labels in under 60 s and under 4 GB peak memory.

Each synthetic-crowd fit runs in a fresh subprocess (one per method and
library) that loads the crowd from a temporary ``.npz`` file and reports its
own wall time and peak resident memory (the child's ``VmHWM`` from
/proc/self/status, reset just before the fit), so that a slow method can be
stopped by a timeout and every peak is measured in isolation. Real-set fits
run in this process.

Usage::

    python benchmarks/bench_aggregation.py                # full run
    python benchmarks/bench_aggregation.py --quick        # smoke run, small crowds
    python benchmarks/bench_aggregation.py --no-crowdkit  # skcrowd only
    python benchmarks/bench_aggregation.py --skip-slow    # no ck GLAD/MMSR on product
    python benchmarks/bench_aggregation.py \
        --output benchmarks/results/bench_aggregation.txt
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp

SKCROWD_METHODS = (
    "MajorityVote",
    "Wawa",
    "ZeroBasedSkill",
    "IWMV",
    "DawidSkene",
    "OneCoinDawidSkene",
    "IBCC",
    "GLAD",
    "MACE",
)
CROWDKIT_METHODS = (
    "MajorityVote",
    "Wawa",
    "ZeroBasedSkill",
    "DawidSkene",
    "OneCoinDawidSkene",
    "GLAD",
    "MACE",
    "KOS",
    "MMSR",
)
REAL_SETS = ("bluebirds", "dog", "rte", "temp", "product", "music")

# crowd-kit runs skipped by --skip-slow (and --quick): (set, method) -> why
SLOW_CROWDKIT = {
    ("product", "GLAD"): "crowd-kit GLAD takes 230-500 s on product",
    ("product", "MMSR"): "crowd-kit MMSR runs ~300 s on product, then raises",
}
# crowd-kit GLAD on product, measured once here (2026-12-04, crowd-kit 1.4.2,
# same 2-core machine): used for the GLAD target when the run skips it.
CROWDKIT_GLAD_PRODUCT = {"acc": 7719 / 8315, "time": 227.96}
# crowd-kit methods too slow for the synthetic crowds (time on 25k labels)
CROWDKIT_SYNTH_SKIP = {
    "GLAD": "~230-500 s on 25k labels (product); hours at 1M",
    "MACE": "~64 s on 25k labels (product); ~40 min at 1M",
    "KOS": "binary only (K=5 here)",
    "MMSR": "~300 s on 25k labels (product), then fails",
}

# --------------------------------------------------------------------------
# data


def shared_data_dir(cli_value=None):
    """``--data``, else ``$SKCROWD_SHARED_DATA``, else ``../shared/data``."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get("SKCROWD_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_real(root, name):
    """A real crowd as a long table ``(task, worker, label)`` and its gold."""
    import pandas as pd

    if name == "music":
        a = pd.read_csv(root / "music" / "answers.csv")
        df = pd.DataFrame(
            {
                "task": a["Input.song"],
                "worker": a["WorkerID"],
                "label": a["Answer.pred_label"],
            }
        )
        gold = a.drop_duplicates("Input.song").set_index("Input.song")[
            "Input.true_label"
        ]
        return df, gold
    folder = root / "truth_inference" / name
    df = pd.read_csv(folder / "answers.csv")
    gold = pd.read_csv(folder / "gold.csv").set_index("task")["label"]
    return df, gold


def make_synthetic_crowd(
    n_items, n_workers, n_classes=5, labels_per_item=5, random_state=0
):
    """A crowd of workers of mixed quality, vectorised (no loop over labels).

    Workers are experts (45%, accuracy U(0.75, 0.95)), average (30%,
    U(0.45, 0.7)), class confusers (15%: accuracy 0.5, true ``k`` read as
    ``k+1`` with probability 0.35) or spammers (10%: one label distribution
    whatever the truth). Worker activity is log-normal; each item gets
    ``labels_per_item`` distinct workers. Returns ``item, worker, label``
    (COO of the crowd) and the gold ``y``.
    """
    rng = np.random.default_rng(random_state)
    K, W = n_classes, n_workers
    y = rng.choice(K, size=n_items, p=rng.dirichlet(np.full(K, 10.0)))

    kind = rng.choice(4, size=W, p=[0.45, 0.30, 0.15, 0.10])
    acc = np.where(kind == 0, rng.uniform(0.75, 0.95, W), rng.uniform(0.45, 0.7, W))
    acc[kind == 2] = 0.5
    conf = np.empty((W, K, K))
    conf[:] = ((1 - acc) / (K - 1))[:, None, None]
    idx = np.arange(K)
    conf[:, idx, idx] = acc[:, None]
    confusers = np.flatnonzero(kind == 2)
    shifted = (idx + 1) % K
    conf[np.ix_(confusers, idx, idx)] = 0.15 / (K - 2)
    conf[confusers[:, None], idx, idx] = 0.5
    conf[confusers[:, None], idx, shifted] = 0.35
    spammers = np.flatnonzero(kind == 3)
    conf[spammers] = rng.dirichlet(np.ones(K), size=len(spammers))[:, None, :]

    activity = rng.lognormal(0.0, 1.0, W)
    activity /= activity.sum()
    workers = rng.choice(W, size=(n_items, labels_per_item), p=activity)
    while True:  # redraw the rows where a worker repeats
        s = np.sort(workers, axis=1)
        bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
        if bad.size == 0:
            break
        workers[bad] = rng.choice(W, size=(bad.size, labels_per_item), p=activity)

    item = np.repeat(np.arange(n_items, dtype=np.int64), labels_per_item)
    worker = workers.ravel().astype(np.int64)
    cum = conf.cumsum(axis=2)
    label = np.empty(item.size, dtype=np.int8)
    step = 1_000_000
    for start in range(0, item.size, step):
        sl = slice(start, start + step)
        u = rng.random(item[sl].size)
        rows = cum[worker[sl], y[item[sl]]]
        label[sl] = np.minimum((u[:, None] > rows).sum(axis=1), K - 1)
    return item, worker, label, y


# --------------------------------------------------------------------------
# methods


def skcrowd_methods():
    """The aggregators ``skcrowd.aggregation`` exposes now, in a fixed order."""
    import skcrowd.aggregation as agg

    return [(m, getattr(agg, m)) for m in SKCROWD_METHODS if hasattr(agg, m)]


def make_skcrowd(cls):
    est = cls()
    if "random_state" in est.get_params():
        est.set_params(random_state=0)
    return est


def git_state(module):
    """``git <sha>`` of the checkout a package is imported from, if any."""
    folder = Path(module.__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return f"git {sha}" + (", with uncommitted changes" if dirty else "")


def crowdkit_version():
    try:
        from importlib.metadata import version

        import crowdkit  # noqa: F401

        return version("crowd-kit")
    except Exception:  # noqa: BLE001 - not installed or broken
        return None


def patch_crowdkit():
    """Let crowd-kit 1.4.2's Wawa and ZeroBasedSkill run under scikit-learn 1.9.

    Their ``predict`` calls ``sklearn.utils.validation.check_is_fitted`` on an
    ``attrs`` class that has no ``__sklearn_tags__``, which raises since
    scikit-learn 1.6+. Replace that name in their two modules by a check of
    the attribute itself. Returns the names patched.
    """
    patched = []
    import importlib

    def check_is_fitted(estimator, attributes=None, **_):
        names = [attributes] if isinstance(attributes, str) else attributes or []
        for name in names:
            if getattr(estimator, name, None) is None:
                raise RuntimeError(f"{type(estimator).__name__} is not fitted")

    for mod in ("wawa", "zero_based_skill"):
        try:
            module = importlib.import_module(
                f"crowdkit.aggregation.classification.{mod}"
            )
        except ImportError:
            continue
        if hasattr(module, "check_is_fitted"):
            module.check_is_fitted = check_is_fitted
            patched.append(mod)
    return patched


def crowdkit_method(name):
    import crowdkit.aggregation as ca

    return getattr(ca, name)()


def timed(fn, min_time=0.2, max_repeat=5):
    """Run ``fn``; repeat it while it is fast and keep the fastest time."""
    t0 = time.perf_counter()
    result = fn()
    best = time.perf_counter() - t0
    total, n = best, 1
    while total < min_time and n < max_repeat:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, total, n = min(best, dt), total + dt, n + 1
    return result, best


# --------------------------------------------------------------------------
# child processes (synthetic crowds)


def _proc_status_kib(field):
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status in KiB (None off Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


_PEAK_RESET = False


def _reset_peak_rss():
    """Current RSS (KiB); reset the kernel's RSS high-water mark to it.

    ``getrusage(...).ru_maxrss`` is useless here: Linux carries the parent's
    high-water mark into a forked-then-exec'ed child, so every child would
    report at least this benchmark's own RSS. ``VmHWM`` in /proc/self/status
    belongs to the child's fresh address space, and writing ``5`` to
    /proc/self/clear_refs (Linux >= 4.0) resets it to the current RSS, so the
    peak read after the fit is the peak of the fit (input crowd included).
    """
    global _PEAK_RESET
    current = _proc_status_kib("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        _PEAK_RESET = True
    except OSError:
        _PEAK_RESET = False
    if current is None:  # not Linux
        current = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return current


def _peak_rss():
    """Peak RSS (KiB) since :func:`_reset_peak_rss`, and how it was measured."""
    hwm = _proc_status_kib("VmHWM")
    if hwm is not None:
        how = "VmHWM after clear_refs" if _PEAK_RESET else "VmHWM of the child"
        return hwm, how
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss"


def _child_main(spec):
    """Fit one method on a crowd saved as .npz; print one JSON line."""
    spec = json.loads(spec)
    with np.load(spec["npz"]) as f:
        n_items, n_workers = (int(v) for v in f["shape"])
        gold = f["gold"]
        if spec["lib"] == "skcrowd":
            Y = sp.csr_array(
                (f["data"], f["indices"], f["indptr"]), shape=(n_items, n_workers)
            )
        else:
            import pandas as pd

            indptr = f["indptr"]
            df = pd.DataFrame(
                {
                    "task": np.repeat(np.arange(n_items), np.diff(indptr)),
                    "worker": f["indices"],
                    "label": f["data"].astype(np.int64),
                }
            )
    if spec["lib"] == "skcrowd":
        import skcrowd.aggregation as agg

        est = make_skcrowd(getattr(agg, spec["method"]))
        rss_before = _reset_peak_rss()
        t0 = time.perf_counter()
        labels = est.fit_predict(Y)
        elapsed = time.perf_counter() - t0
        labels = np.asarray(labels)
        extra = {"n_iter": int(getattr(est, "n_iter_", 0)) or None}
    else:
        patch_crowdkit()
        est = crowdkit_method(spec["method"])
        rss_before = _reset_peak_rss()
        t0 = time.perf_counter()
        series = est.fit_predict(df)
        elapsed = time.perf_counter() - t0
        labels = series.reindex(np.arange(n_items)).to_numpy()
        extra = {"n_iter": len(getattr(est, "loss_history_", []) or []) or None}
    peak, how = _peak_rss()
    correct = int(np.sum(labels == gold))
    print(
        json.dumps(
            {
                "acc": correct / n_items,
                "time": elapsed,
                "peak_rss_mb": peak / 1024,
                "rss_before_fit_mb": rss_before / 1024,
                "peak_how": how,
                **extra,
            }
        )
    )


def run_child(lib, method, npz, timeout):
    spec = json.dumps({"lib": lib, "method": method, "npz": str(npz)})
    cmd = [sys.executable, os.path.abspath(__file__), "--child", spec]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout > {timeout:.0f} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"rc {proc.returncode}: {last[:70]}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_time"] = time.perf_counter() - t0
    return result


# --------------------------------------------------------------------------
# output


class Report:
    def __init__(self):
        self.lines = []

    def __call__(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def save(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n")


def fmt_time(t):
    if t is None:
        return "-"
    if t < 0.01:
        return f"{t * 1000:.2f}ms"
    if t < 1:
        return f"{t * 1000:.0f}ms"
    return f"{t:.2f}s"


def fmt_acc(a):
    return "-" if a is None else f"{a:.4f}"


def fmt_ratio(ck, sk):
    if ck is None or sk is None or sk <= 0:
        return "-"
    r = ck / sk
    return f"{r:.0f}x" if r >= 10 else f"{r:.1f}x"


def fmt_diff(sk, ck):
    if sk is None or ck is None:
        return "-"
    return f"{sk - ck:+.4f}"


def verdict(ok):
    return "PASS" if ok else "FAIL"


# --------------------------------------------------------------------------
# sections


def bench_real(out, args, root, use_ck):
    from skcrowd.utils import crowd_matrix_from_long

    out("== 1. Real crowds with gold (accuracy over all gold items; times exclude")
    out("      loading; skcrowd gets the sparse crowd from crowd_matrix_from_long,")
    out("      crowd-kit the long DataFrame; a fit under 0.2 s is repeated up to 5")
    out("      times and the fastest kept, for both libraries)")
    results = {}
    sets = [s for s in REAL_SETS if s in args.sets]
    header = (
        f"{'set':<10}{'method':<19}{'sk acc':>8}{'sk time':>10}"
        f"{'ck acc':>8}{'ck time':>10}{'ck/sk':>8}{'acc sk-ck':>11}"
    )
    for name in sets:
        try:
            df, gold = load_real(root, name)
        except FileNotFoundError as exc:
            out(f"{name}: skipped ({exc})")
            continue
        t0 = time.perf_counter()
        Y, tasks, _, classes = crowd_matrix_from_long(df, sparse=True)
        t_load = time.perf_counter() - t0
        gold_codes = np.searchsorted(classes, gold.reindex(tasks).to_numpy())
        out()
        out(
            f"{name}: {Y.shape[0]} items, {Y.shape[1]} workers, {Y.nnz} labels, "
            f"K={len(classes)}; crowd_matrix_from_long {fmt_time(t_load)}"
        )
        out(header)
        rows = {}
        for mname, cls in skcrowd_methods():
            try:
                labels, dt = timed(
                    lambda cls=cls, Y=Y: make_skcrowd(cls).fit_predict(Y)
                )
                hits = int(np.sum(np.asarray(labels) == gold_codes))
                rows[mname] = {
                    "sk_acc": hits / len(gold_codes),
                    "sk_hits": hits,
                    "sk_time": dt,
                }
            except Exception as exc:  # noqa: BLE001 - report, go on
                rows[mname] = {"sk_error": f"{type(exc).__name__}: {exc}"[:60]}
        if use_ck:
            for mname in CROWDKIT_METHODS:
                row = rows.setdefault(mname, {})
                if (name, mname) in SLOW_CROWDKIT and args.skip_slow:
                    row["ck_error"] = "skipped (--skip-slow)"
                    continue
                try:
                    labels, dt = timed(
                        lambda m=mname, df=df: crowdkit_method(m).fit_predict(df)
                    )
                    hits = int(np.sum(labels.reindex(gold.index) == gold))
                    row.update(ck_acc=hits / len(gold), ck_hits=hits, ck_time=dt)
                except Exception as exc:  # noqa: BLE001 - report, go on
                    row["ck_error"] = f"{type(exc).__name__}: {exc}"[:60]
        for mname, row in rows.items():
            line = f"{name:<10}{mname:<19}"
            if "sk_error" in row:
                line += f"  error: {row['sk_error']}"
            else:
                line += (
                    f"{fmt_acc(row.get('sk_acc')):>8}"
                    f"{fmt_time(row.get('sk_time')):>10}"
                )
            if "ck_error" in row:
                line += f"  crowd-kit: {row['ck_error']}"
            elif use_ck:
                line += (
                    f"{fmt_acc(row.get('ck_acc')):>8}{fmt_time(row.get('ck_time')):>10}"
                    f"{fmt_ratio(row.get('ck_time'), row.get('sk_time')):>8}"
                    f"{fmt_diff(row.get('sk_acc'), row.get('ck_acc')):>11}"
                )
            out(line)
        sk_best = max(
            ((r["sk_acc"], m) for m, r in rows.items() if "sk_acc" in r), default=None
        )
        ck_best = max(
            ((r["ck_acc"], m) for m, r in rows.items() if "ck_acc" in r), default=None
        )
        if sk_best:
            msg = f"  best skcrowd: {sk_best[1]} {sk_best[0]:.4f}"
            if ck_best:
                msg += f"; best crowd-kit: {ck_best[1]} {ck_best[0]:.4f}"
            out(msg)
        results[name] = rows
    return results


def bench_synthetic(out, args, label, n_items, n_workers, use_ck, tmpdir, timeout,
                    ck_methods):
    t0 = time.perf_counter()
    item, worker, lab, gold = make_synthetic_crowd(n_items, n_workers, random_state=0)
    Y = sp.csr_array((lab, (item, worker)), shape=(n_items, n_workers))
    t_gen = time.perf_counter() - t0
    npz = Path(tmpdir) / f"crowd_{label}.npz"
    np.savez(
        npz,
        indptr=Y.indptr,
        indices=Y.indices,
        data=Y.data,
        shape=np.array(Y.shape),
        gold=gold,
    )
    mv_acc = float(
        np.mean(
            np.argmax(
                sp.csr_array(
                    (np.ones(lab.size), (item, lab.astype(np.int64))),
                    shape=(n_items, 5),
                ).toarray(),
                axis=1,
            )
            == gold
        )
    )
    del item, worker, lab
    out()
    out(
        f"== {label}: {n_items:,} items x {n_workers:,} workers, {Y.nnz:,} labels, "
        f"K=5, 5 labels per item, workers of mixed quality (generated in "
        f"{t_gen:.1f} s; argmax-of-votes accuracy {mv_acc:.4f}); dense form "
        f"{n_items * n_workers / 1e9:.1f}G cells"
    )
    out(
        "   each fit in its own subprocess; time = fit_predict wall time in the "
        "child; peak = the child's peak RSS during the fit (VmHWM, reset just"
    )
    out("   before the fit), which includes 'base' = its RSS before the fit "
        "(interpreter, imports, the crowd)")
    out(
        f"{'method':<19}{'sk acc':>8}{'sk time':>10}{'sk peak':>10}{'base':>8}"
        f"{'ck acc':>8}{'ck time':>10}{'ck peak':>10}{'ck/sk':>8}{'acc sk-ck':>11}"
    )
    rows = {}
    for mname, _ in skcrowd_methods():
        rows[mname] = {"sk": run_child("skcrowd", mname, npz, timeout)}
    if use_ck:
        for mname in CROWDKIT_METHODS:
            if mname in CROWDKIT_SYNTH_SKIP:
                rows.setdefault(mname, {})["ck"] = {
                    "error": "not run: " + CROWDKIT_SYNTH_SKIP[mname]
                }
            elif mname in ck_methods:
                rows.setdefault(mname, {})["ck"] = run_child(
                    "crowdkit", mname, npz, args.ck_timeout
                )
            else:
                rows.setdefault(mname, {})["ck"] = {"error": "not run (--quick)"}
    for mname, row in rows.items():
        sk, ck = row.get("sk", {}), row.get("ck", {})
        line = f"{mname:<19}"
        if "error" in sk:
            line += f"  skcrowd {sk['error']:<34}"
        elif sk:
            line += (
                f"{fmt_acc(sk['acc']):>8}{fmt_time(sk['time']):>10}"
                f"{sk['peak_rss_mb']:>8.0f}MB{sk['rss_before_fit_mb']:>6.0f}MB"
            )
        else:
            line += f"{'-':>8}{'-':>10}{'-':>10}{'-':>8}"
        if "error" in ck:
            line += f"  crowd-kit {ck['error']}"
        elif ck:
            line += (
                f"{fmt_acc(ck['acc']):>8}{fmt_time(ck['time']):>10}"
                f"{ck['peak_rss_mb']:>8.0f}MB"
                f"{fmt_ratio(ck['time'], sk.get('time')):>8}"
                f"{fmt_diff(sk.get('acc'), ck['acc']):>11}"
            )
        out(line)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small synthetic crowds (100k and 1M labels); implies "
                             "--skip-slow")
    parser.add_argument("--no-crowdkit", action="store_true",
                        help="skcrowd only, even when crowd-kit is installed")
    parser.add_argument("--skip-slow", action="store_true",
                        help="skip crowd-kit GLAD and MMSR on product (~5 min each)")
    parser.add_argument("--data", default=None,
                        help="the shared data folder (default: $SKCROWD_SHARED_DATA "
                             "or ../shared/data next to the repository)")
    parser.add_argument("--sets", default=",".join(REAL_SETS),
                        help="comma-separated real sets to run")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per skcrowd fit on a synthetic crowd")
    parser.add_argument("--ck-timeout", type=float, default=None,
                        help="seconds allowed per crowd-kit fit on a synthetic crowd")
    parser.add_argument("--output", default=None, help="also write the report here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child_main(args.child)
        return 0
    args.skip_slow = args.skip_slow or args.quick
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if args.timeout is None:
        args.timeout = 120 if args.quick else 600
    if args.ck_timeout is None:
        args.ck_timeout = 300 if args.quick else 1800

    import sklearn

    import skcrowd

    out = Report()
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="crowdkit")
    ck_version = None if args.no_crowdkit else crowdkit_version()
    use_ck = ck_version is not None
    patched = patch_crowdkit() if use_ck else []
    mode = "quick" if args.quick else "full"
    out("skcrowd aggregation benchmark")
    out(
        f"date {datetime.date.today().isoformat()}; {mode} run"
        f"{' (--skip-slow)' if args.skip_slow else ''}; machine: {os.cpu_count()} "
        f"cores ({platform.machine()}, {platform.system()}), shared with other jobs, "
        "so times are noisy"
    )
    out(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn "
        f"{sklearn.__version__}, skcrowd {skcrowd.__version__}"
    )
    out(f"skcrowd imported from {Path(skcrowd.__file__).parent} ({git_state(skcrowd)})")
    if use_ck:
        out(
            f"crowd-kit {ck_version} (patched for scikit-learn >=1.6: "
            f"check_is_fitted in {', '.join(patched) or 'nothing'} -- its Wawa "
            "and ZeroBasedSkill raise AttributeError '__sklearn_tags__' otherwise)"
        )
    else:
        why = "--no-crowdkit" if args.no_crowdkit else "not installed"
        out(f"crowd-kit: {why}; crowd-kit columns skipped")
    sk_names = [m for m, _ in skcrowd_methods()]
    missing = [m for m in SKCROWD_METHODS if m not in sk_names]
    absent = f" (not in skcrowd.aggregation yet: {', '.join(missing)})"
    out(f"skcrowd methods: {', '.join(sk_names)}" + (absent if missing else ""))
    out("settings: every method at its defaults (random_state=0 where it has one).")
    from skcrowd.aggregation import DawidSkene

    ds = DawidSkene()
    out(
        f"  skcrowd DawidSkene: max_iter={ds.max_iter}, tol={ds.tol} (per label, on "
        f"the log posterior), alpha={ds.alpha}"
    )
    if use_ck:
        ck_ds = crowdkit_method("DawidSkene")
        out(
            f"  crowd-kit DawidSkene: n_iter={ck_ds.n_iter}, tol={ck_ds.tol} (per "
            "label, on the ELBO) -- its defaults"
        )
    out()

    root = shared_data_dir(args.data)
    real = {}
    if root.is_dir():
        real = bench_real(out, args, root, use_ck)
    else:
        out(f"== 1. Real crowds: skipped ({root} is absent)")

    if args.quick:
        sizes = [("synthetic 100k", 20_000, 1_000), ("sparse 1M", 200_000, 10_000)]
    else:
        sizes = [("synthetic 1M", 200_000, 1_000), ("sparse 10M", 2_000_000, 10_000)]
    ck_at_small = ("MajorityVote", "Wawa", "ZeroBasedSkill", "DawidSkene",
                   "OneCoinDawidSkene")
    with tempfile.TemporaryDirectory(prefix="bench_aggregation_") as tmpdir:
        small = bench_synthetic(out, args, sizes[0][0], sizes[0][1], sizes[0][2],
                                use_ck, tmpdir, args.timeout, ck_at_small)
        big = bench_synthetic(out, args, sizes[1][0], sizes[1][1], sizes[1][2],
                              False, tmpdir, args.timeout, ())
        out("   (crowd-kit not run on the 10M crowd: its pandas EM would need "
            "tens of GB and hours)" if use_ck else "")

    out()
    out("== Targets")
    # (a) DawidSkene 10x at 1M labels
    sk = small.get("DawidSkene", {}).get("sk", {})
    ck = small.get("DawidSkene", {}).get("ck", {})
    tag = sizes[0][0]
    if "time" in sk and "time" in ck:
        ratio = ck["time"] / sk["time"]
        diff = sk["acc"] - ck["acc"]
        ok = ratio >= 10 and diff >= -0.002
        out(
            f"[{verdict(ok)}] DawidSkene on {tag} labels: skcrowd {sk['time']:.2f} s "
            f"({sk['n_iter']} iterations) vs crowd-kit {ck['time']:.2f} s "
            f"({ck['n_iter']} iterations) = {ratio:.1f}x (target >= 10x); accuracy "
            f"{sk['acc']:.4f} vs {ck['acc']:.4f}, diff {diff:+.4f} (target >= -0.002)"
        )
    else:
        out(f"[n/a ] DawidSkene on {tag} labels: "
            f"{sk.get('error') or ck.get('error') or 'crowd-kit not run'}")
    if args.quick:
        out("       (--quick: smaller crowd than the 1M-label target)")
    # (b) GLAD 100x on product
    sk_glad = real.get("product", {}).get("GLAD", {})
    ck_glad = dict(sk_glad) if sk_glad else {}
    recorded = False
    if "ck_acc" not in ck_glad and use_ck:
        ck_glad = {"ck_acc": CROWDKIT_GLAD_PRODUCT["acc"],
                   "ck_time": CROWDKIT_GLAD_PRODUCT["time"]}
        recorded = True
    if "sk_time" in sk_glad and "ck_time" in ck_glad:
        ratio = ck_glad["ck_time"] / sk_glad["sk_time"]
        ok = ratio >= 100 and sk_glad["sk_acc"] >= ck_glad["ck_acc"]
        out(
            f"[{verdict(ok)}] GLAD on product: skcrowd {sk_glad['sk_time']:.2f} s vs "
            f"crowd-kit {ck_glad['ck_time']:.1f} s"
            f"{' (recorded 2026-12-04, not re-run)' if recorded else ''} = "
            f"{ratio:.0f}x (target >= 100x); accuracy {sk_glad['sk_acc']:.4f} vs "
            f"{ck_glad['ck_acc']:.4f} (target >=)"
        )
    else:
        why = sk_glad.get("sk_error") or (
            "skcrowd has no GLAD yet" if "GLAD" not in sk_names else
            "product not run" if "product" not in real else "crowd-kit not run")
        out(f"[n/a ] GLAD on product: {why}")
    # (c) 10M labels
    big_ds = big.get("DawidSkene", {}).get("sk", {})
    tag = sizes[1][0]
    if "time" in big_ds:
        peak_gb = big_ds["peak_rss_mb"] / 1024
        ok = big_ds["time"] < 60 and peak_gb < 4
        out(
            f"[{verdict(ok)}] DawidSkene on {tag} labels (sparse input): "
            f"{big_ds['time']:.1f} s (target < 60 s), peak RSS {peak_gb:.2f} GB of the "
            f"fitting subprocess, {big_ds['rss_before_fit_mb'] / 1024:.2f} GB before "
            f"the fit (target < 4 GB); accuracy {big_ds['acc']:.4f}"
        )
    else:
        out(f"[FAIL] DawidSkene on {tag} labels: {big_ds.get('error', 'not run')}")
    if args.quick:
        out("       (--quick: smaller crowd than the 10M-label target)")
    # (d) acceptance (3): real sets
    for name, rows in real.items():
        ds_row = rows.get("DawidSkene", {})
        sk_best = max((r["sk_acc"] for r in rows.values() if "sk_acc" in r),
                      default=None)
        ck_best = max((r["ck_acc"] for r in rows.values() if "ck_acc" in r),
                      default=None)
        if "ck_acc" in ds_row and "sk_acc" in ds_row and ck_best is not None:
            ok = ds_row["sk_hits"] >= ds_row["ck_hits"] and sk_best >= ck_best
            n = round(ds_row["sk_hits"] / ds_row["sk_acc"])
            out(
                f"[{verdict(ok)}] {name}: DawidSkene {ds_row['sk_hits']}/{n} vs "
                f"crowd-kit's {ds_row['ck_hits']}/{n}; best skcrowd "
                f"{round(sk_best * n)}/{n} vs best crowd-kit {round(ck_best * n)}/{n}"
            )
    if args.output:
        out.save(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
