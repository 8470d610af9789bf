"""Tests of the shared skorch composition base (``skcrowd.nn._net``)."""

import numpy as np
import pytest

pytest.importorskip("torch")

from skcrowd.classification import CrowdClassifier  # noqa: E402
from skcrowd.datasets import make_crowd_classification  # noqa: E402


def test_diverged_training_raises_instead_of_predicting_nan():
    # unscaled features and a large SGD step: the weights became NaN and
    # predict_proba silently returned NaN for every item
    X, Y, _ = make_crowd_classification(n_samples=40, n_workers=4, random_state=0)
    clf = CrowdClassifier(
        crowd_model="crowdlayer-vb", hidden_units=(8,), lr=1.0, optimizer="sgd",
        max_epochs=5, random_state=0,
    )
    with pytest.raises(ValueError, match="training diverged.*Lower lr"):
        clf.fit(X * 1e6, Y)
    # the same settings on scaled features train as before
    proba = clf.fit(X, Y).predict_proba(X)
    assert np.isfinite(proba).all()
