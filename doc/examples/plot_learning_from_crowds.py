"""
=============================================
Learning a classifier from crowd labels
=============================================

The goal is often not the labels but a model that predicts the label of new
items. Two ways to get one from a crowd:

- **aggregate, then fit**: :class:`~skcrowd.classification.AggregatedClassifier`
  infers the true labels with an aggregator, then fits any scikit-learn
  classifier on them (weighted by the posterior: soft labels);
- **end to end**: :class:`~skcrowd.classification.CrowdClassifier` trains a
  neural network and a model of each worker together on the raw crowd
  labels, so the features help to tell which worker is wrong (Rodrigues &
  Pereira, AAAI 2018; Raykar et al., JMLR 2010).

The data are the Music genre crowd (Rodrigues, Pereira & Ribeiro, 2013,
bundled: :func:`~skcrowd.datasets.load_music`): 700 songs with 124 audio
features, each labelled with one of 10 genres by some of 44 workers, and a
separate test set of 300 songs with their true genre.
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import StandardScaler

from skcrowd.aggregation import DawidSkene, MajorityVote
from skcrowd.classification import AggregatedClassifier, CrowdClassifier
from skcrowd.datasets import load_music
from skcrowd.metrics import worker_accuracy
from skcrowd.plotting import plot_reliability_diagram, plot_worker_accuracy
from skcrowd.utils import is_missing_label

music = load_music()
scaler = StandardScaler().fit(music.X_train)
X_train, X_test = scaler.transform(music.X_train), scaler.transform(music.X_test)
Y = music.crowd_train
observed = ~is_missing_label(Y)  # Y holds genre names, NaN where missing
print(f"{Y.shape[0]} songs, {Y.shape[1]} workers, {observed.sum()} labels")
print("genres:", ", ".join(music.classes))

# %%
# Fit four models
# ---------------
# Each is scored on the 300 test songs, which none of them saw. For
# reference, the same (L2-regularised) logistic regression trained on the
# *true* genres of the training songs shows what perfect labels would give.
models = {
    "majority vote\n+ logistic regr.": AggregatedClassifier(
        MajorityVote(random_state=0), LogisticRegression(C=0.1)
    ),
    "Dawid-Skene\n+ logistic regr.": AggregatedClassifier(
        DawidSkene(), LogisticRegression(C=0.1)
    ),
    "CrowdClassifier\n(crowd layer)": CrowdClassifier(
        crowd_model="crowdlayer-mw", max_epochs=50, lr=3e-3, random_state=0
    ),
    "CrowdClassifier\n(EM, Raykar)": CrowdClassifier(
        crowd_model="em", max_epochs=50, lr=3e-3, random_state=0
    ),
}
scores = {}
for name, model in models.items():
    model.fit(X_train, Y)
    scores[name] = accuracy_score(music.y_test, model.predict(X_test))
    print(f"{name.replace(chr(10), ' '):40s} test accuracy {scores[name]:.3f}")
oracle = LogisticRegression(C=0.1).fit(X_train, music.y_train_gold)
oracle_score = accuracy_score(music.y_test, oracle.predict(X_test))
print(f"{'trained on the true labels':40s} test accuracy {oracle_score:.3f}")

fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
bars = ax.bar(list(scores), list(scores.values()), color=["0.6", "0.6", "C0", "C0"])
ax.bar_label(bars, fmt="%.3f")
ax.axhline(oracle_score, color="C3", linestyle="--", label="trained on true labels")
ax.set_ylabel("test accuracy (300 songs)")
ax.set_ylim(0, 1)
ax.legend(loc="upper left")
plt.show()

# %%
# Modelling the workers (Dawid-Skene, or end to end) beats trusting the
# majority, and the end-to-end EM model comes closest to the model trained
# on the true labels.
#
# What the end-to-end model learned about the workers
# ---------------------------------------------------
# :class:`~skcrowd.classification.CrowdClassifier` estimates each worker's
# confusion matrix too (``worker_confusion_``) and their reliability
# (``worker_reliability_``). The gold genres of the training songs, which it
# never saw, measure the workers' true accuracy:
crowd_clf = models["CrowdClassifier\n(EM, Raykar)"]
true = worker_accuracy(Y, music.y_train_gold)
plot_worker_accuracy(
    {"CrowdClassifier (EM)": crowd_clf.worker_reliability_},
    true,
    n_labels=observed.sum(axis=0),
)
plt.show()

# %%
# The busy workers (large points) are placed well, the near-useless ones
# included. The workers who gave a handful of labels (small points) are
# rated well below their true accuracy: most rows of their 10 x 10
# confusion matrix rest on no label at all, and stay near the prior.
#
# Calibration on the test songs
# -----------------------------
# Is the predicted probability on the test songs a calibrated one? The
# logistic regression trained on Dawid-Skene's soft labels is close; the
# network is overconfident, as neural networks trained to convergence tend
# to be.
fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
for name in ["Dawid-Skene\n+ logistic regr.", "CrowdClassifier\n(EM, Raykar)"]:
    model = models[name]
    plot_reliability_diagram(
        music.y_test,
        model.predict_proba(X_test),
        classes=model.classes_,
        label=name.replace("\n", " "),
        ax=ax,
    )
plt.show()
