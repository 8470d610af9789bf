"""CrowdClassifier(confusion_init=...): the Dawid-Skene start of the worker models."""

import numpy as np
import pytest

from skcrowd.classification import CrowdClassifier
from skcrowd.classification._crowd import _dawid_skene_confusion
from skcrowd.datasets import make_crowd_classification
from skcrowd.utils import check_crowd_matrix

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def spammer_crowd():
    return make_crowd_classification(
        n_samples=300, n_features=5, n_classes=3, n_workers=6, labels_per_item=4,
        worker_profiles=["reliable"] * 3 + ["constant_spammer"] * 3,
        random_state=0,
    )


def _frozen(model, init):
    # lr so small that one epoch leaves the start untouched
    return CrowdClassifier(
        crowd_model=model, confusion_init=init, lr=1e-12, max_epochs=1,
        hidden_units=(8,), random_state=0,
    )


@pytest.mark.parametrize(
    "model", ["crowdlayer-mw", "speelfc", "tracereg", "geocrowdnet-f", "geocrowdnet-w"]
)
def test_dawid_skene_start_is_the_ds_confusion(spammer_crowd, model):
    X, Y, _ = spammer_crowd
    expected = _dawid_skene_confusion(check_crowd_matrix(Y))
    clf = _frozen(model, "dawid-skene").fit(X, Y)
    np.testing.assert_allclose(clf.worker_confusion_, expected, atol=1e-4)
    # the constant spammers are spammers from the start
    assert np.all(clf.worker_reliability_[3:] < 0.6)
    assert np.all(clf.worker_reliability_[:3] > 0.6)


def test_identity_start_keeps_the_models_own(spammer_crowd):
    X, Y, _ = spammer_crowd
    clf = _frozen("speelfc", "identity").fit(X, Y)
    conf = clf.worker_confusion_
    # every worker starts alike, right more often than not
    np.testing.assert_allclose(conf, conf[:1].repeat(len(conf), axis=0), atol=1e-6)
    assert np.all(np.diagonal(conf, axis1=1, axis2=2) > 0.5)


def test_dawid_skene_start_with_low_rank_and_diagonal_models(spammer_crowd):
    X, Y, _ = spammer_crowd
    expected = _dawid_skene_confusion(check_crowd_matrix(Y))
    for model in ["crowdlayer-vw", "crowdlayer-vw+b"]:
        clf = _frozen(model, "dawid-skene").fit(X, Y)
        np.testing.assert_allclose(
            np.diagonal(clf.worker_confusion_, axis1=1, axis2=2),
            np.diagonal(expected, axis1=1, axis2=2), atol=1e-4,
        )
    # low rank: the shared part is the workers' mean, each worker's own
    # diagonal on top, so the spammers are apart from the start
    clf = CrowdClassifier(
        crowd_model="speelfc", confusion_rank=1, lr=1e-12, max_epochs=1,
        hidden_units=(8,), random_state=0,
    ).fit(X, Y)
    assert clf.worker_reliability_[:3].min() > clf.worker_reliability_[3:].max()


def test_dawid_skene_confusion_of_a_one_worker_crowd():
    crowd = check_crowd_matrix(np.array([0, 1, 1, 2, 0]))
    conf = _dawid_skene_confusion(crowd)
    assert conf.shape == (1, 3, 3)
    np.testing.assert_allclose(conf.sum(-1), 1.0)


def test_annot_mix_starts_near_the_ds_confusion(spammer_crowd):
    """annot-mix's worker network is fitted to the DS confusions (its item
    path at zero); "identity" keeps Annot-Mix's own start, every worker
    right with probability 0.9."""
    X, Y, _ = spammer_crowd
    expected = _dawid_skene_confusion(check_crowd_matrix(Y))
    clf = _frozen("annot-mix", "dawid-skene").fit(X, Y)
    np.testing.assert_allclose(clf.worker_confusion_, expected, atol=0.03)
    assert np.all(clf.worker_reliability_[3:] < 0.6)
    assert np.all(clf.worker_reliability_[:3] > 0.6)
    own = _frozen("annot-mix", "identity").fit(X, Y)
    np.testing.assert_allclose(own.worker_reliability_, 0.9, atol=0.02)
