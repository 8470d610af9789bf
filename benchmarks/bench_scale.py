"""Dawid–Skene at scale: 1M, 10M and 100M labels on one machine.

The reference is spark-crowd (Scala on Spark, last released 2018), the only
distributed crowd aggregation there was: 703 s for Dawid–Skene on about 100M
binary labels on one node. This benchmark fits skcrowd's ``DawidSkene`` on
synthetic binary crowds of 1M, 10M and 100M labels (10 labels per item, so
100k, 1M and 10M items; 1,000 workers of accuracy uniform in [0.55, 0.95])
five ways:

- ``numpy``: in memory, the crowd given as a ``scipy.sparse`` COO matrix
  (int32 indices, int8 labels: 9 bytes per label of input);
- ``torch-cpu``: the same, ``backend="torch"`` on the CPU;
- ``dask-1w`` and ``dask-2w``: out of core on a ``distributed.LocalCluster``
  of 1 or 2 single-threaded worker processes (loopback only), reading a
  partitioned Parquet data set (one file per 250k items, written task by
  task) on every EM pass.

Each fit runs in a fresh subprocess (with a timeout) that builds or opens the
crowd and reports the fit's wall time (cluster start-up, data generation and
the Parquet writing are not counted) and the peak memory:

- in memory: the subprocess's peak resident set (``ru_maxrss``), which
  includes the crowd itself, Python and the libraries;
- Dask: the peak of the *sum* of the resident sets of the driver, the
  scheduler (in the driver), the nannies and the workers, sampled every
  0.1 s with psutil (``ru_maxrss`` would give only the largest process).

It prints bytes per label (peak / labels), the accuracy against the
generator's truth, the number of EM iterations, the largest difference of the
confusion matrices from the numpy fit of the same crowd (the paths compute the
same EM: it should be ~1e-12), and PASS/FAIL for the targets: 100M labels in
under 600 s, and at most 64 bytes per label at 100M (memory linear in the
labels). After the 100M step the parent also prints
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, the largest single child.

Usage::

    python benchmarks/bench_scale.py                       # 1M, 10M, 100M
    python benchmarks/bench_scale.py --sizes 1e6 1e7       # smaller run
    python benchmarks/bench_scale.py --output benchmarks/results/bench_scale.txt

The synthetic data (in memory, and the Parquet files under ``--tmpdir``,
removed at the end) come from one seeded generator, chunk by chunk, so every
path sees the same crowd.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

LABELS_PER_ITEM = 10
N_WORKERS = 1000
ITEMS_PER_CHUNK = 250_000
STRIDE = 97  # j * 97 mod 1000 differs for j < 10: 10 distinct workers per item
SEED = 0
TIME_TARGET = 600.0
BYTES_TARGET = 64.0
SPARK_CROWD_SECONDS = 703.0
METHODS = ("numpy", "torch-cpu", "dask-1w", "dask-2w")


# -- the synthetic crowd ----------------------------------------------------------
def worker_accuracy():
    return np.random.default_rng(SEED).uniform(0.55, 0.95, N_WORKERS)


def make_chunk(start_item, n_items, accuracy):
    """Items ``start_item ...`` : (task, worker, label, truth), deterministic."""
    rng = np.random.default_rng([SEED, start_item])
    truth = rng.integers(0, 2, n_items, dtype=np.int8)
    base = rng.integers(0, N_WORKERS, n_items)
    worker = (base[:, None] + STRIDE * np.arange(LABELS_PER_ITEM)) % N_WORKERS
    worker = worker.astype(np.int16).ravel()
    task = np.repeat(np.arange(start_item, start_item + n_items, dtype=np.int32),
                     LABELS_PER_ITEM)
    correct = rng.random(len(worker)) < accuracy[worker]
    true_l = np.repeat(truth, LABELS_PER_ITEM)
    label = np.where(correct, true_l, 1 - true_l).astype(np.int8)
    return task, worker, label, truth


def chunks(n_items):
    for start in range(0, n_items, ITEMS_PER_CHUNK):
        yield start, min(ITEMS_PER_CHUNK, n_items - start)


def write_parquet(n_labels, root):
    """The crowd as one Parquet file per chunk of items (task-aligned)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(root) / f"labels_{n_labels}"
    if (path / "_done").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    accuracy = worker_accuracy()
    for i, (start, n) in enumerate(chunks(n_labels // LABELS_PER_ITEM)):
        task, worker, label, _ = make_chunk(start, n, accuracy)
        table = pa.table({"task": task, "worker": worker, "label": label})
        pq.write_table(table, path / f"part-{i:05d}.parquet", row_group_size=1 << 22)
    (path / "_done").touch()
    return path


def truth_of(n_items):
    accuracy = worker_accuracy()
    return np.concatenate(
        [make_chunk(s, n, accuracy)[3] for s, n in chunks(n_items)]
    )


# -- one fit, in a subprocess -------------------------------------------------------
class TreeMemory:
    """Peak of the summed RSS of this process and its descendants."""

    def __init__(self, interval=0.1):
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self):
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except Exception:  # noqa: BLE001 (a process that just ended)
                pass
        self.peak = max(self.peak, total)

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def child(method, n_labels, parquet):
    from skcrowd.aggregation import DawidSkene

    n_items = n_labels // LABELS_PER_ITEM
    result = {"method": method, "n_labels": n_labels}
    if method in ("numpy", "torch-cpu"):
        import scipy.sparse as sp

        item = np.empty(n_labels, dtype=np.int32)
        worker = np.empty(n_labels, dtype=np.int32)
        label = np.empty(n_labels, dtype=np.int8)
        accuracy = worker_accuracy()
        for start, n in chunks(n_items):
            t, w, lab, _ = make_chunk(start, n, accuracy)
            sl = slice(start * LABELS_PER_ITEM, (start + n) * LABELS_PER_ITEM)
            item[sl], worker[sl], label[sl] = t, w, lab
            del t, w, lab
        Y = sp.coo_array((label, (item, worker)), shape=(n_items, N_WORKERS))
        del item, worker, label
        backend = "torch" if method == "torch-cpu" else "numpy"
        t0 = time.perf_counter()
        ds = DawidSkene(backend=backend).fit(Y)
        result["seconds"] = time.perf_counter() - t0
        result["peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        labels = np.asarray(ds.labels_)
    else:
        import dask.dataframe as dd
        from distributed import Client, LocalCluster

        n_workers = int(method.split("-")[1][0])
        with TreeMemory() as mem:
            cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                memory_limit=0,  # no spilling heuristics: nothing is persisted
            )
            client = Client(cluster)
            df = dd.read_parquet(parquet)
            mem.peak = 0  # the fit's peak, not the start-up's
            t0 = time.perf_counter()
            ds = DawidSkene().fit(df)
            result["seconds"] = time.perf_counter() - t0
            # the labels are lazy: collected here, outside the timed fit
            labels_s = ds.labels_.compute()
            mem.sample()
            result["peak_bytes"] = mem.peak
            client.close()
            cluster.close()
        labels = labels_s.sort_index().to_numpy()
    truth = truth_of(n_items)
    result["accuracy"] = float((labels == truth).mean())
    result["n_iter"] = int(ds.n_iter_)
    result["confusion"] = ds.confusion_.tolist()
    return result


# -- the driver ----------------------------------------------------------------------
def run_child(method, n_labels, parquet, timeout):
    cmd = [sys.executable, __file__, "--child", method, str(n_labels),
           str(parquet or "")]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"method": method, "n_labels": n_labels, "error": f"timeout {timeout}s"}
    for line in out.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
    return {"method": method, "n_labels": n_labels, "error": " | ".join(tail)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7, 1e8])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--tmpdir", default=None)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--keep", action="store_true", help="keep the Parquet files")
    parser.add_argument("--output", default=None)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, n, parquet = args.child
        print("RESULT " + json.dumps(child(method, int(n), parquet or None)))
        return

    root = Path(args.tmpdir or tempfile.mkdtemp(prefix="skcrowd_bench_scale_"))
    lines = []

    def emit(line=""):
        print(line, flush=True)
        lines.append(line)

    import dask
    import scipy
    import torch

    import skcrowd

    emit(f"bench_scale: Dawid-Skene at scale ({datetime.date.today()})")
    emit(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
         f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
         f"python {platform.python_version()}, numpy {np.__version__}, scipy "
         f"{scipy.__version__}, torch {torch.__version__}, dask {dask.__version__}, "
         f"skcrowd {skcrowd.__version__}")
    emit(f"crowd: binary, {LABELS_PER_ITEM} labels per item, {N_WORKERS} workers "
         "(accuracy U[0.55, 0.95]); DawidSkene() defaults (alpha=0.01, tol=1e-7)")
    emit()
    header = (f"{'labels':>12} {'method':>10} {'fit s':>8} {'iters':>5} "
              f"{'peak GB':>8} {'B/label':>8} {'accuracy':>8} {'max|dconf|':>10}")
    emit(header)
    emit("-" * len(header))
    results = []
    try:
        for size in args.sizes:
            n_labels = int(size)
            parquet = None
            if any(m.startswith("dask") for m in args.methods):
                t0 = time.perf_counter()
                parquet = write_parquet(n_labels, root)
                print(f"  (parquet for {n_labels:,} labels: "
                      f"{time.perf_counter() - t0:.0f} s)", flush=True)
            reference = None
            for method in args.methods:
                r = run_child(method, n_labels, parquet, args.timeout)
                results.append(r)
                if "error" in r:
                    emit(f"{n_labels:>12,} {method:>10}  FAILED: {r['error']}")
                    continue
                conf = np.asarray(r["confusion"])
                if method == "numpy":
                    reference = conf
                diff = ""
                if reference is not None:
                    diff = f"{np.abs(conf - reference).max():.1e}"
                r["bytes_per_label"] = r["peak_bytes"] / n_labels
                emit(f"{n_labels:>12,} {method:>10} {r['seconds']:>8.1f} "
                     f"{r['n_iter']:>5} {r['peak_bytes'] / 1e9:>8.2f} "
                     f"{r['bytes_per_label']:>8.1f} {r['accuracy']:>8.4f} {diff:>10}")
            if n_labels >= 10**8:
                usage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                emit(f"{'':>12} (largest single child process so far, "
                     f"RUSAGE_CHILDREN ru_maxrss: {usage * 1024 / 1e9:.2f} GB)")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    emit()
    biggest = max(int(s) for s in args.sizes)
    emit(f"targets at {biggest:,} labels (spark-crowd: {SPARK_CROWD_SECONDS:.0f} s "
         "on ~100M labels, one node):")
    for r in results:
        if r["n_labels"] != biggest:
            continue
        if "error" in r:
            emit(f"  {r['method']:>10}: FAIL ({r['error']})")
            continue
        t_ok = r["seconds"] < TIME_TARGET
        b_ok = r["bytes_per_label"] <= BYTES_TARGET
        emit(f"  {r['method']:>10}: time {r['seconds']:.0f} s < {TIME_TARGET:.0f} s "
             f"{'PASS' if t_ok else 'FAIL'}; {r['bytes_per_label']:.1f} B/label <= "
             f"{BYTES_TARGET:.0f} {'PASS' if b_ok else 'FAIL'}")
    if args.output:
        Path(args.output).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
