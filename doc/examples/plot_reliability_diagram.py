"""
=====================================================
Can the posterior be trusted? Reliability diagrams
=====================================================

Aggregators return a posterior ``proba_`` over each item's true class, not
just a label. Is a label given with probability 0.9 right nine times in
ten? A reliability diagram answers it: the items are binned by the
probability of their estimated label (the confidence), and each bin is
drawn at its mean confidence (x) and the fraction of its items whose label
is right (y). A calibrated posterior lies on the diagonal; below it, the
model is overconfident. The legend gives the expected calibration error
(ECE), the gap averaged over the items; the larger a point, the more items
in its bin.
"""

# %%
# When the model is right
# -----------------------
# On a crowd simulated from Dawid-Skene's own model (every worker has a
# confusion matrix, and labels are independent given the true class) its
# posterior is calibrated. Majority vote's vote shares are not a posterior:
# they are underconfident (above the diagonal).
import matplotlib.pyplot as plt
import numpy as np

from skcrowd.aggregation import GLAD, IBCC, DawidSkene, MajorityVote
from skcrowd.datasets import load_truth_inference, simulate_crowd
from skcrowd.plotting import plot_reliability_diagram

rng = np.random.RandomState(0)
y_true = rng.randint(0, 3, size=3000)
Y = simulate_crowd(
    y_true,
    n_workers=30,
    labels_per_item=3,
    worker_profiles={"reliable": 0.7, "uniform_spammer": 0.3},
    random_state=0,
)


def models():
    return {
        "majority vote": MajorityVote(random_state=0),
        "Dawid-Skene": DawidSkene(),
        "IBCC": IBCC(),
        "GLAD": GLAD(),
    }


fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
for name, model in models().items():
    model.fit(Y)
    plot_reliability_diagram(
        y_true, model.proba_, classes=model.classes_, label=name, ax=ax
    )
ax.set_title("simulated crowd, 3 labels per item")
plt.show()

# %%
# On real crowds
# --------------
# Real workers are not independent given the true class: some items are
# hard for everyone, and errors are shared. The models multiply the
# evidence of every label as if it were independent, so their posteriors
# are overconfident (below the diagonal): a confidence of 0.99 is right
# far less often than 99% of the time (on dog, the items average a
# confidence of 0.99 and 84% are right). Majority vote stays
# underconfident. Treat the posterior as a ranking of
# items from sure to doubtful (e.g. to choose which ones to send for more
# labels) rather than as a probability.
#
# Most items get a confidence near 1 here, so the bins hold equal numbers
# of items (``strategy="quantile"``) rather than equal widths of
# confidence.
fig, axes = plt.subplots(1, 3, figsize=(14, 4.8), layout="constrained")
for ax, name in zip(axes, ["rte", "dog", "temp"], strict=True):
    data = load_truth_inference(name)
    for label, model in models().items():
        model.fit(data.crowd)
        plot_reliability_diagram(
            data.y_gold,
            model.proba_,
            n_bins=8,
            strategy="quantile",
            classes=model.classes_,
            label=label,
            ax=ax,
        )
    ax.set_title(f"{name}: {data.crowd.shape[0]} items, {data.crowd.shape[1]} workers")
plt.show()
