"""
==========================================
Estimated vs true accuracy of each worker
==========================================

Every aggregator estimates how good each worker is, and uses it to weigh
their votes. Where the truth is known (a simulation, or gold labels) the
estimates can be checked: each point is a worker, at their true accuracy
(x) and the accuracy the model estimates for them (y). On the diagonal the
model judged the worker right. The legend gives the mean absolute error;
the larger a point, the more labels the worker gave.
"""

# %%
# A simulated crowd of mixed quality
# ----------------------------------
# 2,000 items of 3 classes, 4 labels each from 40 workers: 60% reliable,
# the others spammers of both kinds, adversaries, or class-confusers.
import matplotlib.pyplot as plt
import numpy as np

from skcrowd.aggregation import GLAD, DawidSkene, MajorityVote, OneCoinDawidSkene
from skcrowd.datasets import load_truth_inference, simulate_crowd
from skcrowd.metrics import worker_accuracy
from skcrowd.plotting import plot_worker_accuracy

rng = np.random.RandomState(0)
y_true = rng.randint(0, 3, size=2000)
crowd = simulate_crowd(
    y_true,
    n_workers=40,
    labels_per_item=4,
    worker_profiles={
        "reliable": 0.6,
        "uniform_spammer": 0.1,
        "constant_spammer": 0.1,
        "adversarial": 0.1,
        "confusion": 0.1,
    },
    random_state=0,
    return_info=True,
)

models = {
    "majority vote": MajorityVote(random_state=0),
    "one-coin Dawid-Skene": OneCoinDawidSkene(),
    "Dawid-Skene": DawidSkene(),
    "GLAD": GLAD(),
}


def estimated_accuracies(Y):
    """Each model's estimated worker accuracy, and its number of labels."""
    estimates = {}
    for name, model in models.items():
        report = model.fit(Y).worker_report()
        estimates[name] = report["accuracy"].to_numpy()
    return estimates, report["n_labels"].to_numpy()


estimates, n_labels = estimated_accuracies(crowd.Y)
fig, axes = plt.subplots(1, len(models), figsize=(14, 4), layout="constrained")
for ax, (name, values) in zip(axes, estimates.items(), strict=True):
    plot_worker_accuracy(
        {name: values}, crowd.worker_accuracy, n_labels=n_labels, ax=ax
    )
fig.suptitle("simulated crowd: 40 workers, 2,000 items")
plt.show()

# %%
# Majority vote's "accuracy" is each worker's agreement with the majority,
# a noisy reference: it overrates the spammers and the adversaries (bottom
# left), whose labels sometimes are the majority, and underrates the best
# workers. The EM models estimate the accuracy from a model of the workers
# and land near the diagonal, Dawid-Skene closest.
#
# A real crowd: textual entailment
# --------------------------------
# 800 sentence pairs, 10 labels each from 164 workers (Snow et al., 2008),
# with gold labels for all. A worker's true accuracy is measured against
# gold (:func:`~skcrowd.metrics.worker_accuracy`); most workers labelled
# only 20 items, so their true accuracy itself is noisy (small points).
rte = load_truth_inference("rte")
estimates, n_labels = estimated_accuracies(rte.crowd)
true = worker_accuracy(rte.crowd, rte.y_gold)
fig, axes = plt.subplots(1, len(models), figsize=(14, 4), layout="constrained")
for ax, (name, values) in zip(axes, estimates.items(), strict=True):
    plot_worker_accuracy({name: values}, true, n_labels=n_labels, ax=ax)
fig.suptitle("rte: 164 workers, 800 items")
plt.show()
