"""
=======================================================
Who is a spammer? Worker confusion matrices as heatmaps
=======================================================

Dawid-Skene (:class:`~skcrowd.aggregation.DawidSkene`) models each worker by
a confusion matrix: row ``k`` is the distribution of the labels the worker
gives to items whose true class is ``k``. It estimates them from the labels
alone, without any gold label. A heatmap of each matrix tells at a glance
what kind of worker someone is: a dark diagonal for a reliable worker, a
flat matrix for someone answering at random, a single dark column for
someone who always gives the same answer, a shifted diagonal for an
adversary, a dark off-diagonal cell for a worker who mixes up two classes.
"""

# %%
# A crowd with five kinds of workers
# ----------------------------------
# 1,500 items of 4 classes, 5 labels each, from 13 simulated workers
# (:func:`~skcrowd.datasets.simulate_crowd`): 8 reliable workers, 2 who
# confuse pairs of classes, and one each of a uniform spammer, a constant
# spammer and an adversary. The simulation returns the true matrices.
import matplotlib.pyplot as plt
import numpy as np

from skcrowd.aggregation import DawidSkene, MajorityVote
from skcrowd.datasets import load_truth_inference, simulate_crowd
from skcrowd.metrics import worker_confusion
from skcrowd.plotting import plot_worker_confusion

rng = np.random.RandomState(0)
y_true = rng.randint(0, 4, size=1500)
profiles = ["reliable"] * 8 + ["confusion"] * 2
profiles += ["uniform_spammer", "constant_spammer", "adversarial"]
crowd = simulate_crowd(
    y_true,
    n_workers=len(profiles),
    labels_per_item=5,
    worker_profiles=profiles,
    random_state=0,
    return_info=True,
)

ds = DawidSkene().fit(crowd.Y)
mv = MajorityVote(random_state=0).fit(crowd.Y)
print(f"majority vote: {np.mean(mv.labels_ == y_true):.3f} of the labels right")
print(f"Dawid-Skene:   {np.mean(ds.labels_ == y_true):.3f} of the labels right")

# %%
# True and estimated matrices, one worker of each kind
# ----------------------------------------------------
# Top row: the matrices of the simulation. Bottom row: Dawid-Skene's
# estimates, from the labels only. The spammers and the adversary are plain
# to see, and so is the pair of classes the fifth worker confuses.
kinds = ["reliable", "confusion", "uniform_spammer", "constant_spammer", "adversarial"]
show = [profiles.index(kind) for kind in kinds]
fig, axes = plt.subplots(2, len(show), figsize=(14, 6.2), layout="constrained")
plot_worker_confusion(
    crowd.confusion,
    workers=show,
    titles=[f"{profiles[r]} (true)" for r in show],
    colorbar=False,
    ax=axes[0],
)
plot_worker_confusion(
    ds.confusion_,
    workers=show,
    titles=[f"worker {r}: estimated" for r in show],
    colorbar=False,
    ax=axes[1],
)
for ax in axes[0]:
    ax.set_xlabel("")
fig.colorbar(axes[1, 0].images[0], ax=axes, shrink=0.6, label="P(label | true class)")
plt.show()

# %%
# A real crowd: dog breeds
# ------------------------
# 807 dog pictures of 4 breeds, each labelled by 10 of 109 workers (bundled:
# :func:`~skcrowd.datasets.load_truth_inference`). Gold labels are known
# here, so each worker's confusion can also be measured directly
# (:func:`~skcrowd.metrics.worker_confusion`); Dawid-Skene never sees them.
# The six busiest workers:
dog = load_truth_inference("dog")
ds_dog = DawidSkene().fit(dog.crowd)
measured = worker_confusion(dog.crowd, dog.y_gold)
busiest = np.argsort(-ds_dog.worker_report()["n_labels"].to_numpy())[:6]
print(f"Dawid-Skene on dog: {np.mean(ds_dog.labels_ == dog.y_gold):.3f} right")

fig, axes = plt.subplots(2, len(busiest), figsize=(14, 5.4), layout="constrained")
plot_worker_confusion(
    measured,
    workers=busiest,
    titles=[f"worker {r}: against gold" for r in busiest],
    colorbar=False,
    ax=axes[0],
)
plot_worker_confusion(
    ds_dog.confusion_,
    workers=busiest,
    titles=[f"worker {r}: estimated" for r in busiest],
    colorbar=False,
    ax=axes[1],
)
for ax in axes[0]:
    ax.set_xlabel("")
fig.colorbar(axes[1, 0].images[0], ax=axes, shrink=0.6, label="P(label | true class)")
plt.show()

# %%
# Dawid-Skene finds what each of them mixes up (breeds 0 and 1, and 2 and
# 3), and how much, without a single gold label.

# %%
# The same numbers as a table: :meth:`~skcrowd.aggregation.DawidSkene.worker_report`
# gives each worker's number of labels, agreement with the estimated labels
# and estimated accuracy (the confusion diagonal weighted by the class
# prior).
print(ds_dog.worker_report().iloc[busiest][["n_labels", "agreement", "accuracy"]])
