"""MultiLabelAggregator: per-label binary aggregation of multi-label tags.

scikit-learn's ``check_estimator`` yields no check for an estimator whose
input is 3-D (``two_d_array=False``), so the contract it would test (fit
returns self, parameters untouched, inputs untouched, idempotence, pickling,
clone) is tested here on multi-label crowds.
"""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags

from skcrowd.aggregation import (
    DawidSkene,
    MajorityVote,
    MultiLabelAggregator,
    OneCoinDawidSkene,
)
from skcrowd.datasets import make_long_tailed_multilabel, simulate_multilabel_crowd
from skcrowd.metrics import multilabel_f1_report
from skcrowd.utils.estimator_checks import NOT_IN_COMMON_TESTS, all_estimators


@pytest.fixture(scope="module")
def crowd():
    _, Y = make_long_tailed_multilabel(n_samples=600, random_state=0)
    info = simulate_multilabel_crowd(
        Y,
        n_workers=12,
        labels_per_item=5,
        worker_profiles={"reliable": 0.7, "uniform_spammer": 0.3},
        random_state=0,
        return_info=True,
    )
    return Y, info


def test_each_label_is_its_aggregator(crowd):
    Y, info = crowd
    Y3 = info.Y3
    agg = MultiLabelAggregator().fit(Y3)
    assert agg.proba_.shape == agg.labels_.shape == Y.shape
    assert agg.labels_.dtype == np.int8
    assert agg.n_workers_ == 12 and agg.n_labels_ == 20
    assert len(agg.aggregators_) == 20
    for j in (0, 7, 19):
        ds = DawidSkene().fit(Y3[:, :, j])
        assert agg.aggregators_[j] is not agg.aggregators_[0] or j == 0
        np.testing.assert_allclose(agg.proba_[:, j], ds.proba_[:, 1])
        np.testing.assert_array_equal(agg.labels_[:, j], ds.labels_ == 1)


def test_recovers_labels_despite_spammers(crowd):
    Y, info = crowd
    ds = MultiLabelAggregator().fit(info.Y3)
    mv = MultiLabelAggregator(MajorityVote(random_state=0)).fit(info.Y3)
    f1_ds = multilabel_f1_report(Y, ds.labels_)["entire"]["micro"]
    f1_mv = multilabel_f1_report(Y, mv.labels_)["entire"]["micro"]
    assert f1_ds > 0.9
    assert f1_ds > f1_mv
    # estimated sensitivities follow the true ones (reliable vs spammers)
    sens, spec = ds.worker_sensitivity_specificity()
    assert sens.shape == spec.shape == (12, 20)
    spam = info.worker_profiles == "uniform_spammer"
    head = slice(0, 5)
    assert np.nanmean(sens[spam, head]) < np.nanmean(sens[~spam, head]) - 0.3
    err = np.abs(sens[~spam, head] - info.sensitivity[~spam, head])
    assert np.nanmean(err) < 0.1


def test_list_of_crowds_dense_and_sparse_match_3d(crowd):
    _, info = crowd
    Y3 = info.Y3[:, :, :6]
    ref = MultiLabelAggregator().fit(Y3)
    dense = MultiLabelAggregator().fit([Y3[:, :, j] for j in range(6)])
    np.testing.assert_allclose(dense.proba_, ref.proba_)
    sparse = []
    for j in range(6):
        obs = ~np.isnan(Y3[:, :, j])
        rows, cols = np.nonzero(obs)
        sparse.append(sp.csr_array((Y3[rows, cols, j], (rows, cols)), shape=obs.shape))
    got = MultiLabelAggregator().fit(sparse)
    np.testing.assert_allclose(got.proba_, ref.proba_, atol=1e-10)
    np.testing.assert_array_equal(got.labels_, ref.labels_)


def test_one_class_labels_and_unannotated_items():
    Y3 = np.full((5, 3, 3), np.nan)
    Y3[:4] = 0.0
    Y3[:4, :, 1] = 1.0  # label 1 tagged by everyone on every annotated item
    Y3[0, :2, 2] = 1.0  # label 2: a real binary crowd
    Y3[3, 0, 2] = 1.0
    agg = MultiLabelAggregator().fit(Y3)
    # label 0: nobody ever tags it; label 1: everyone always does
    np.testing.assert_array_equal(agg.proba_[:, 0], 0.0)
    np.testing.assert_array_equal(agg.proba_[:, 1], 1.0)
    np.testing.assert_array_equal(agg.labels_[:, :2], [[0, 1]] * 5)
    # item 4 (no annotation) gets Dawid-Skene's prevalence of label 2
    ds = agg.aggregators_[2]
    assert agg.proba_[4, 2] == pytest.approx(ds.class_prior_[1])
    assert 0 < agg.proba_[4, 2] < 1
    # majority vote: an unannotated item is a tie
    mv = MultiLabelAggregator(MajorityVote(random_state=0)).fit(Y3)
    assert mv.proba_[4, 2] == 0.5
    with pytest.raises(AttributeError, match="confusion"):
        mv.worker_sensitivity_specificity()
    sens, _ = agg.worker_sensitivity_specificity()
    assert np.isnan(sens[:, :2]).all() and np.isfinite(sens[:, 2]).all()


def test_y_gold_is_passed_per_label():
    rng = np.random.RandomState(0)
    Y = (rng.rand(60, 3) < 0.4).astype(int)
    Y3 = simulate_multilabel_crowd(
        Y, n_workers=5, labels_per_item=3, worker_profiles="uniform_spammer",
        random_state=0,
    )
    gold = np.full(Y.shape, np.nan)
    gold[:10] = Y[:10]
    agg = MultiLabelAggregator().fit(Y3, y_gold=gold)
    np.testing.assert_array_equal(agg.labels_[:10], Y[:10])
    np.testing.assert_array_equal(agg.proba_[:10], Y[:10])
    with pytest.raises(ValueError, match="y_gold must have shape"):
        MultiLabelAggregator().fit(Y3, y_gold=gold[:, :2])
    with pytest.raises(ValueError, match="0/1"):
        MultiLabelAggregator().fit(Y3, y_gold=gold * 2)


def test_other_aggregators_and_fit_predict(crowd):
    Y, info = crowd
    est = MultiLabelAggregator(OneCoinDawidSkene())
    labels = est.fit_predict(info.Y3)
    np.testing.assert_array_equal(labels, est.labels_)
    proba = clone(est).fit_predict_proba(info.Y3)
    np.testing.assert_allclose(proba, est.proba_)
    assert multilabel_f1_report(Y, labels)["entire"]["micro"] > 0.85
    # integer and boolean tags are accepted where there is no missing cell
    full = np.nan_to_num(info.Y3[:50, :, :4]).astype(bool)
    a = MultiLabelAggregator().fit(full)
    b = MultiLabelAggregator().fit(full.astype(np.int64))
    np.testing.assert_allclose(a.proba_, b.proba_)


@pytest.mark.parametrize(
    "Y, match",
    [
        (np.zeros((4, 3)), "3-D crowd"),
        (np.full((4, 3, 2), 2.0), "0/1 tags"),
        (np.array([[["a", "b"]]], dtype=object), "not numbers"),
        (np.zeros((0, 3, 2)), "empty"),
        ([], "empty list"),
        ([np.zeros((4, 3)), np.zeros((4, 2))], "shape of Y"),
        ([np.zeros((4, 3, 1))], "2-D crowd"),
        ([sp.csr_array(np.eye(3) * 3)], "0/1 tags"),
        (sp.csr_array(np.eye(3)), "list of per-label sparse"),
    ],
)
def test_bad_crowds(Y, match):
    with pytest.raises(ValueError, match=match):
        MultiLabelAggregator().fit(Y)


def test_label_without_observation_names_the_label():
    Y3 = np.zeros((4, 3, 2))
    Y3[:, :, 1] = np.nan
    with pytest.raises(ValueError, match="Label 1: .*no observed label"):
        MultiLabelAggregator().fit(Y3)


def test_bad_aggregator():
    with pytest.raises(ValueError, match="aggregator must be"):
        MultiLabelAggregator(aggregator="ds").fit(np.zeros((3, 2, 2)))


# -- the scikit-learn contract (check_estimator yields no check: 3-D input) --
def test_registry_leaves_it_out_with_a_reason():
    assert "MultiLabelAggregator" not in dict(all_estimators())
    assert len(NOT_IN_COMMON_TESTS["MultiLabelAggregator"]) > 30
    tags = get_tags(MultiLabelAggregator())
    assert tags.input_tags.three_d_array and not tags.input_tags.two_d_array


def test_contract(crowd):
    _, info = crowd
    Y3 = info.Y3[:200, :, :5].copy()
    Y3.setflags(write=False)  # read-only input works and is not modified
    before = Y3.copy()
    base = DawidSkene(max_iter=20)
    est = MultiLabelAggregator(base)
    params = est.get_params(deep=False)
    attrs = set(vars(est))
    assert est.fit(Y3) is est
    np.testing.assert_array_equal(Y3, before)
    assert est.get_params(deep=False) == params
    assert est.aggregator is base and not hasattr(base, "proba_")  # cloned
    assert all(name.endswith("_") for name in set(vars(est)) - attrs)
    # nested parameters reach the aggregator, as in a grid search
    est2 = clone(est).set_params(aggregator__max_iter=5)
    assert est2.aggregator.max_iter == 5 and base.max_iter == 20
    # idempotent, repeatable, picklable
    first = est.proba_.copy()
    np.testing.assert_array_equal(est.fit(Y3).proba_, first)
    np.testing.assert_array_equal(clone(est).fit(Y3).proba_, first)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.proba_, first)
    np.testing.assert_array_equal(
        loaded.worker_sensitivity_specificity()[0],
        est.worker_sensitivity_specificity()[0],
    )


def test_not_fitted():
    with pytest.raises(NotFittedError):
        MultiLabelAggregator().worker_sensitivity_specificity()
