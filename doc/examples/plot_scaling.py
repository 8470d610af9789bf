"""
=====================================
Scaling out: millions of crowd labels
=====================================

Real crowds are large and sparse: tens of thousands of items, thousands of
workers, each of whom labelled a small fraction of the items. skcrowd's
aggregators accept a :mod:`scipy.sparse` crowd matrix (the stored entries
are the labels) and work on the list of observed labels, never on a dense
``n_samples x n_workers`` array: an EM iteration costs
``O(n_labels * K + n_workers * K^2)``. This example times the fit on
simulated sparse crowds from ten thousand to two million labels.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from skcrowd.aggregation import DawidSkene, MajorityVote, OneCoinDawidSkene
from skcrowd.datasets import simulate_crowd

rng = np.random.RandomState(0)
sizes = [2_000, 10_000, 50_000, 150_000, 400_000]  # items, 5 labels each
models = {
    "majority vote": lambda: MajorityVote(random_state=0),
    "one-coin Dawid-Skene": OneCoinDawidSkene,
    "Dawid-Skene": DawidSkene,
}
seconds = {name: [] for name in models}
accuracy = {name: [] for name in models}
n_labels = []
for n_items in sizes:
    y_true = rng.randint(0, 5, size=n_items)
    Y = simulate_crowd(
        y_true,
        n_workers=2_000,
        labels_per_item=5,
        worker_profiles={"reliable": 0.8, "uniform_spammer": 0.2},
        sparse=True,
        random_state=0,
    )
    n_labels.append(Y.nnz)
    for name, make in models.items():
        start = time.perf_counter()
        model = make().fit(Y)
        seconds[name].append(time.perf_counter() - start)
        accuracy[name].append(np.mean(model.labels_ == y_true))
    print(
        f"{Y.nnz:>9,} labels, {Y.shape[0]:>7,} x {Y.shape[1]:,} sparse: "
        + ", ".join(f"{name} {seconds[name][-1]:.2f} s" for name in models)
    )

# %%
# Fit time and accuracy against the number of labels
# --------------------------------------------------
# Time grows about linearly with the number of labels (the dotted line has
# slope one); the EM models stop when their objective settles, so their
# time per label also depends on how many iterations that takes.
#
# The 2,000 workers are the same at every size, so the labels per worker
# grow from 5 to 1,000. With 5 labels each, Dawid-Skene's full 5 x 5
# confusion matrices are too many parameters and the one-coin model (one
# number per worker) is better; from a few hundred labels per worker on,
# the full matrices pay off.
fig, (ax_time, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
for name in models:
    ax_time.loglog(n_labels, seconds[name], marker="o", label=name)
    ax_acc.semilogx(n_labels, accuracy[name], marker="o", label=name)
reference = np.array([n_labels[0], n_labels[-1]], dtype=float)
top = max(seconds["Dawid-Skene"])
ax_time.loglog(reference, top * reference / reference[-1], "k:", label="linear")
ax_time.set_xlabel("number of labels")
ax_time.set_ylabel("fit time (s)")
ax_time.legend()
ax_acc.set_xlabel("number of labels")
ax_acc.set_ylabel("accuracy of the estimated labels")
ax_acc.legend()
plt.show()

# %%
# Beyond one machine's patience
# -----------------------------
# - From the shell, ``python -m skcrowd aggregate answers.csv`` reads a long
#   table of answers straight into a sparse crowd.
# - :class:`~skcrowd.classification.CrowdClassifier` trains on a GPU with
#   ``device="cuda"``, in mini-batches of ``batch_size`` items.
# - ``benchmarks/bench_aggregation.py`` times Dawid-Skene on ten million
#   labels against crowd-kit; its last results are on the
#   :doc:`benchmark page </benchmarks>`.
