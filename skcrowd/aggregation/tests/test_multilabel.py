"""MultiLabelAggregator: per-label binary aggregation of multi-label tags.

scikit-learn's ``check_estimator`` yields no check for an estimator whose
input is 3-D (``two_d_array=False``), so the contract it would test (fit
returns self, parameters untouched, inputs untouched, idempotence, pickling,
clone) is tested here on multi-label crowds; the full set of applicable
common checks is in test_multilabel_common.py.
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
    MultiLabelDawidSkene,
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
@pytest.mark.parametrize("cls", [MultiLabelAggregator, MultiLabelDawidSkene])
def test_registry_leaves_it_out_with_a_reason(cls):
    assert cls.__name__ not in dict(all_estimators())
    assert len(NOT_IN_COMMON_TESTS[cls.__name__]) > 30
    tags = get_tags(cls())
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


# -- MultiLabelDawidSkene: one sensitivity/specificity per worker -------------
def naive_posterior(Y3, sens, spec, prev):
    """The E-step by loops over items, labels and workers."""
    n, W, L = Y3.shape
    out = np.empty((n, L))
    for i in range(n):
        for j in range(L):
            p1, p0 = prev[j], 1 - prev[j]
            for r in range(W):
                t = Y3[i, r, j]
                if np.isnan(t):
                    continue
                p1 *= sens[r] if t == 1 else 1 - sens[r]
                p0 *= 1 - spec[r] if t == 1 else spec[r]
            out[i, j] = p1 / (p1 + p0)
    return out


def small_crowd(seed=0, n=40, L=4, W=5):
    rng = np.random.RandomState(seed)
    Y = (rng.rand(n, L) < [0.5, 0.3, 0.15, 0.05][:L]).astype(int)
    info = simulate_multilabel_crowd(
        Y, n_workers=W, labels_per_item=3,
        worker_profiles=["reliable", "reliable", "lazy", "uniform_spammer",
                         "reliable"][:W],
        random_state=seed, return_info=True,
    )
    return Y, info


def test_pooled_posterior_is_the_e_step_of_its_parameters():
    _, info = small_crowd()
    Y3 = info.Y3.copy()
    Y3[7] = np.nan  # an item nobody annotated
    est = MultiLabelDawidSkene(tol=0, max_iter=30).fit(Y3)
    expected = naive_posterior(Y3, est.sensitivity_, est.specificity_, est.prevalence_)
    # proba_ is the E-step of the stored parameters (those of the last M-step)
    np.testing.assert_allclose(est.proba_, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.proba_[7], est.prevalence_, rtol=1e-10)
    assert est.n_iter_ == 30
    assert np.all(np.diff(est.log_likelihood_) >= -1e-9)  # EM never goes down


def test_pooled_m_step_by_hand():
    _, info = small_crowd(seed=1)
    Y3 = info.Y3
    a = 0.01
    est = MultiLabelDawidSkene(max_iter=1, alpha=a).fit(Y3)
    # one iteration: M-step from the vote fractions, then the E-step
    obs = ~np.isnan(Y3)
    mv = np.nansum(Y3, axis=1) / obs.sum(axis=1)
    mu = np.broadcast_to(mv[:, None, :], Y3.shape)
    tags = np.nan_to_num(Y3)
    sens = ((mu * tags * obs).sum(axis=(0, 2)) + a) / (
        (mu * obs).sum(axis=(0, 2)) + 2 * a
    )
    fpr = (((1 - mu) * tags * obs).sum(axis=(0, 2)) + a) / (
        ((1 - mu) * obs).sum(axis=(0, 2)) + 2 * a
    )
    prev = (mv.sum(axis=0) + a) / (len(Y3) + 2 * a)
    np.testing.assert_allclose(est.sensitivity_, sens)
    np.testing.assert_allclose(est.specificity_, 1 - fpr)
    np.testing.assert_allclose(est.prevalence_, prev)
    np.testing.assert_allclose(est.proba_, naive_posterior(Y3, sens, 1 - fpr, prev))


def test_pooled_beats_per_label_on_the_tail():
    _, Y = make_long_tailed_multilabel(n_samples=2000, random_state=0)
    info = simulate_multilabel_crowd(
        Y, n_workers=15, labels_per_item=3,
        worker_profiles={"reliable": 0.7, "uniform_spammer": 0.3},
        random_state=0, return_info=True,
    )
    from skcrowd.metrics import label_frequency_groups

    groups = label_frequency_groups(Y)
    pooled = MultiLabelDawidSkene().fit(info.Y3)
    per_label = MultiLabelAggregator().fit(info.Y3)
    rp = multilabel_f1_report(Y, pooled.labels_, groups=groups)
    rl = multilabel_f1_report(Y, per_label.labels_, groups=groups)
    assert rp["tail"]["macro"] > rl["tail"]["macro"] + 0.05
    assert rp["entire"]["micro"] > 0.93
    # the shared skills are close to the simulated ones
    spam = info.worker_profiles == "uniform_spammer"
    np.testing.assert_allclose(
        pooled.sensitivity_[~spam], info.sensitivity[~spam, 0], atol=0.05
    )
    assert np.all(pooled.sensitivity_[spam] < 0.2)


def test_pooled_input_forms_agree():
    _, info = small_crowd(seed=2)
    Y3 = info.Y3
    ref = MultiLabelDawidSkene().fit(Y3)
    dense = MultiLabelDawidSkene().fit([Y3[:, :, j] for j in range(Y3.shape[2])])
    sparse = []
    for j in range(Y3.shape[2]):
        rows, cols = np.nonzero(~np.isnan(Y3[:, :, j]))
        sparse.append(
            sp.coo_array((Y3[rows, cols, j], (rows, cols)), shape=Y3.shape[:2])
        )
    got = MultiLabelDawidSkene().fit(sparse)
    for other in (dense, got):
        np.testing.assert_allclose(other.proba_, ref.proba_, atol=1e-12)
        np.testing.assert_allclose(other.sensitivity_, ref.sensitivity_, atol=1e-12)


def test_pooled_gold_alpha_zero_and_errors():
    Y, info = small_crowd(seed=3)
    gold = np.full(Y.shape, np.nan)
    gold[:5] = Y[:5]
    est = MultiLabelDawidSkene().fit(info.Y3, y_gold=gold)
    np.testing.assert_array_equal(est.proba_[:5], Y[:5])
    np.testing.assert_array_equal(est.fit_predict(info.Y3, y_gold=gold), est.labels_)
    zero = MultiLabelDawidSkene(alpha=0.0).fit(info.Y3)
    assert np.all(np.isfinite(zero.proba_))
    assert np.all(np.diff(zero.log_likelihood_) >= -1e-9)
    for params, match in (
        ({"max_iter": 0}, "max_iter"),
        ({"alpha": -1.0}, "alpha"),
        ({"tol": np.nan}, "tol"),
    ):
        with pytest.raises(ValueError, match=match):
            MultiLabelDawidSkene(**params).fit(info.Y3)
    with pytest.raises(ValueError, match="no observed tag"):
        MultiLabelDawidSkene().fit(np.full((3, 2, 2), np.nan))
    with pytest.raises(ValueError, match="3-D crowd"):
        MultiLabelDawidSkene().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="y_gold must have shape"):
        MultiLabelDawidSkene().fit(info.Y3, y_gold=gold[:, :1])


def test_pooled_contract():
    _, info = small_crowd(seed=4)
    Y3 = info.Y3.copy()
    Y3.setflags(write=False)
    before = Y3.copy()
    est = MultiLabelDawidSkene(max_iter=50)
    params = est.get_params()
    attrs = set(vars(est))
    assert est.fit(Y3) is est
    np.testing.assert_array_equal(Y3, before)
    assert est.get_params() == params
    assert all(name.endswith("_") for name in set(vars(est)) - attrs)
    first = est.proba_.copy()
    np.testing.assert_array_equal(est.fit(Y3).proba_, first)
    np.testing.assert_array_equal(clone(est).fit_predict_proba(Y3), first)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).proba_, first)


# -- posteriors of new crowds under the fitted workers ------------------------
def test_predict_on_the_fitted_crowd_is_the_fit(crowd):
    _, info = crowd
    Y3 = info.Y3[:300, :, :6]
    est = MultiLabelAggregator(DawidSkene(max_iter=30)).fit(Y3)
    np.testing.assert_allclose(est.predict_proba(Y3), est.proba_, atol=1e-12)
    np.testing.assert_array_equal(est.predict(Y3), est.labels_)
    pooled = MultiLabelDawidSkene(tol=0, max_iter=30).fit(Y3)
    # proba_ is the E-step of the parameters of the last M-step: predict's
    np.testing.assert_allclose(pooled.predict_proba(Y3), pooled.proba_, atol=1e-12)
    np.testing.assert_array_equal(pooled.predict(Y3), pooled.labels_)


def test_predict_new_items_each_label_and_by_hand(crowd):
    _, info = crowd
    fit_part, new = info.Y3[:400, :, :6], info.Y3[400:, :, :6].copy()
    new[0] = np.nan  # an item nobody annotated
    est = MultiLabelAggregator(DawidSkene(max_iter=30)).fit(fit_part)
    proba = est.predict_proba(new)
    for j, agg in enumerate(est.aggregators_):
        one = list(agg.classes_).index(1)
        expected_j = agg.predict_proba(new[:, :, j])[:, one]
        np.testing.assert_array_equal(proba[:, j], expected_j)
    pooled = MultiLabelDawidSkene().fit(fit_part)
    expected = naive_posterior(
        new, pooled.sensitivity_, pooled.specificity_, pooled.prevalence_
    )
    np.testing.assert_allclose(pooled.predict_proba(new), expected, rtol=1e-9)
    np.testing.assert_allclose(pooled.predict_proba(new)[0], pooled.prevalence_)
    # a list of sparse crowds, as for fit: stored entries observed, 0s included
    lists = []
    for j in range(new.shape[2]):
        r, c = np.nonzero(~np.isnan(new[:, :, j]))
        lists.append(sp.csr_matrix((new[r, c, j], (r, c)), shape=new.shape[:2]))
    np.testing.assert_allclose(pooled.predict_proba(lists), expected, rtol=1e-9)


def test_predict_one_class_label_and_errors():
    Y = np.array(
        [
            [[1, 0], [1, 0]],
            [[0, 0], [0, 0]],
            [[1, 0], [np.nan, np.nan]],
        ]
    )
    est = MultiLabelAggregator(MajorityVote(random_state=0)).fit(Y)
    # label 1 was never tagged: posterior 0, as in fit
    np.testing.assert_array_equal(est.predict_proba(Y)[:, 1], 0.0)
    with pytest.raises(ValueError, match="Label 1"):  # a tag it never saw
        est.predict(np.array([[[1, 1], [1, 0]]]))
    pooled = MultiLabelDawidSkene().fit(Y)
    for fitted in (est, pooled):
        with pytest.raises(ValueError, match="3 workers and 2 labels"):
            fitted.predict_proba(np.zeros((2, 3, 2)))
        with pytest.raises(ValueError, match="2 workers and 3 labels"):
            fitted.predict(np.zeros((2, 2, 3)))
    for cls in (MultiLabelAggregator, MultiLabelDawidSkene):
        with pytest.raises(NotFittedError):
            cls().predict_proba(Y)
