import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import f1_score, ndcg_score

from skcrowd.metrics import (
    label_frequency_groups,
    macro_precision_at_k,
    multilabel_f1_report,
    ndcg_at_k,
    precision_at_k,
)


def random_problem(seed, n=60, L=12):
    rng = np.random.RandomState(seed)
    Y_true = (rng.rand(n, L) < 0.25).astype(int)
    scores = np.clip(0.6 * Y_true + rng.rand(n, L) * 0.7, 0, 1)
    return Y_true, scores


# ------------------------------------------------------------------ groups
def test_label_frequency_groups_boundaries():
    # counts 35 (head), 34 and 9 (medium), 8 and 0 (tail)
    counts = [35, 34, 9, 8, 0]
    Y = np.zeros((40, len(counts)), dtype=np.int8)
    for j, c in enumerate(counts):
        Y[:c, j] = 1
    groups = label_frequency_groups(Y)
    assert groups.tolist() == ["head", "medium", "medium", "tail", "tail"]
    # sparse input and booleans give the same groups
    assert label_frequency_groups(sp.csr_array(Y)).tolist() == groups.tolist()
    assert label_frequency_groups(Y.astype(bool)).tolist() == groups.tolist()
    # custom thresholds
    assert label_frequency_groups(Y, head=10, tail=0).tolist() == [
        "head", "head", "medium", "medium", "tail"
    ]


@pytest.mark.parametrize(
    "kwargs, match",
    [({"head": 5, "tail": 5}, "below head"), ({"head": -1}, "non-negative int")],
)
def test_label_frequency_groups_bad_thresholds(kwargs, match):
    with pytest.raises(ValueError, match=match):
        label_frequency_groups(np.eye(3), **kwargs)


@pytest.mark.parametrize(
    "Y, match",
    [
        (np.array([[0, 2], [1, 0]]), "binary indicator"),
        (np.array([0, 1, 1]), "2-D"),
        (np.array([["a", "b"]]), "numeric"),
        (sp.csr_array(np.array([[0, 2], [1, 0]])), "binary indicator"),
    ],
)
def test_label_frequency_groups_rejects_non_indicator(Y, match):
    with pytest.raises(ValueError, match=match):
        label_frequency_groups(Y)


# ---------------------------------------------------------------- F1 report
def test_f1_report_entire_matches_sklearn():
    for seed in range(3):
        Y_true, scores = random_problem(seed)
        Y_pred = (scores >= 0.5).astype(int)
        report = multilabel_f1_report(Y_true, Y_pred)
        assert list(report) == ["entire"]
        for average in ("micro", "macro"):
            expected = f1_score(Y_true, Y_pred, average=average, zero_division=0)
            assert report["entire"][average] == pytest.approx(expected)


def test_f1_report_groups_all_rows_match_sklearn_on_columns():
    Y_true, scores = random_problem(0)
    Y_pred = (scores >= 0.5).astype(int)
    groups = np.array(["head"] * 5 + ["medium"] * 4 + ["tail"] * 3)
    report = multilabel_f1_report(Y_true, Y_pred, groups=groups)
    assert list(report) == ["entire", "head", "medium", "tail"]
    for name in ("head", "medium", "tail"):
        cols = groups == name
        for average in ("micro", "macro"):
            expected = f1_score(
                Y_true[:, cols], Y_pred[:, cols], average=average, zero_division=0
            )
            assert report[name][average] == pytest.approx(expected)


def test_f1_report_with_label_rows_is_bbsn_tail():
    Y_true, scores = random_problem(1)
    Y_pred = (scores >= 0.5).astype(int)
    groups = np.array(["head"] * 6 + ["tail"] * 6)
    report = multilabel_f1_report(
        Y_true, Y_pred, groups=groups, group_rows="with_label"
    )
    cols = groups == "tail"
    rows = Y_true[:, cols].any(axis=1)
    assert rows.sum() < len(rows)  # the variant really drops documents
    expected = f1_score(Y_true[rows][:, cols], Y_pred[rows][:, cols], average="macro")
    assert report["tail"]["macro"] == pytest.approx(expected)
    # the entire scores always use every document
    assert report["entire"] == multilabel_f1_report(Y_true, Y_pred)["entire"]
    # no medium label: NaN, but the key is there
    assert np.isnan(report["medium"]["micro"]) and np.isnan(report["medium"]["macro"])


def test_f1_report_single_column_group_by_hand():
    # a one-label group is scored as that label, not as a 2-class target
    Y_true = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    Y_pred = np.array([[1, 0], [0, 1], [0, 1], [0, 0]])
    report = multilabel_f1_report(Y_true, Y_pred, groups=["head", "tail"])
    # tail: TP 1, FP 1, FN 1 -> 2 / 4
    assert report["tail"] == {"micro": 0.5, "macro": 0.5}
    # head: TP 1, FN 1 -> 2 / 3
    assert report["head"]["micro"] == pytest.approx(2 / 3)


def test_f1_report_zero_division():
    # label 1 never true and never predicted
    Y_true = np.array([[1, 0], [0, 0]])
    Y_pred = np.array([[1, 0], [1, 0]])
    assert multilabel_f1_report(Y_true, Y_pred)["entire"]["macro"] == pytest.approx(
        (2 / 3 + 0) / 2
    )
    one = multilabel_f1_report(Y_true, Y_pred, zero_division=1.0)
    assert one["entire"]["macro"] == pytest.approx((2 / 3 + 1) / 2)
    nan = multilabel_f1_report(Y_true, Y_pred, zero_division=np.nan)
    assert nan["entire"]["macro"] == pytest.approx(2 / 3)
    for zd in (0.0, 1.0, np.nan):
        expected = f1_score(Y_true, Y_pred, average="macro", zero_division=zd)
        got = multilabel_f1_report(Y_true, Y_pred, zero_division=zd)["entire"]["macro"]
        assert got == pytest.approx(expected)


def test_f1_report_other_group_names_and_sparse():
    Y_true, scores = random_problem(2, L=4)
    Y_pred = (scores >= 0.5).astype(int)
    groups = ["head", "zeta", "alpha", "alpha"]
    report = multilabel_f1_report(sp.csr_array(Y_true), sp.csr_array(Y_pred),
                                  groups=groups)
    assert list(report) == ["entire", "head", "medium", "tail", "alpha", "zeta"]
    assert report["entire"] == multilabel_f1_report(Y_true, Y_pred)["entire"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"Y_pred": np.full((4, 3), 0.7)}, "Threshold scores"),
        ({"Y_pred": np.zeros((4, 2))}, "shape"),
        ({"groups": ["head", "tail"]}, "one group name per label"),
        ({"groups": ["head", "entire", "tail"]}, "reserved"),
        ({"group_rows": "tail"}, "group_rows"),
        ({"zero_division": "warn"}, "zero_division"),
    ],
)
def test_f1_report_errors(kwargs, match):
    args = {"Y_true": np.eye(4, 3), "Y_pred": np.eye(4, 3), **kwargs}
    with pytest.raises(ValueError, match=match):
        multilabel_f1_report(args.pop("Y_true"), args.pop("Y_pred"), **args)


def test_f1_report_does_not_modify_inputs():
    Y_true, scores = random_problem(3)
    Y_pred = (scores >= 0.5).astype(int)
    before = Y_true.copy(), Y_pred.copy()
    multilabel_f1_report(Y_true, Y_pred, groups=["head"] * 12, group_rows="with_label")
    np.testing.assert_array_equal(before[0], Y_true)
    np.testing.assert_array_equal(before[1], Y_pred)


# ------------------------------------------------------------------ ranking
def naive_precision(Y_true, scores, k, bbsn):
    """A loop transcription of the two definitions."""
    hits = count = 0
    for y, s in zip(Y_true, scores, strict=True):
        if bbsn and not y.any():
            continue
        for j in np.argsort(-s, kind="stable")[:k]:
            hits += y[j] == 1 and (not bbsn or s[j] >= 0.5)
            count += 1
    return hits / count


def naive_macro_precision(Y_true, scores, k, bbsn):
    up = np.zeros(Y_true.shape[1])
    down = np.zeros(Y_true.shape[1])
    for y, s in zip(Y_true, scores, strict=True):
        if bbsn and not y.any():
            continue
        for j in np.argsort(-s, kind="stable")[:k]:
            up[j] += y[j] == 1 and (not bbsn or s[j] >= 0.5)
            down[j] += 1
    return np.mean(up[down > 0] / down[down > 0])


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("variant", ["standard", "bbsn"])
def test_precision_at_k_matches_loops(k, variant):
    for seed in range(3):
        Y_true, scores = random_problem(seed)
        Y_true[:5] = 0  # documents without labels: the variants differ on them
        bbsn = variant == "bbsn"
        assert precision_at_k(Y_true, scores, k, variant=variant) == pytest.approx(
            naive_precision(Y_true, scores, k, bbsn)
        )
        assert macro_precision_at_k(
            Y_true, scores, k, variant=variant
        ) == pytest.approx(naive_macro_precision(Y_true, scores, k, bbsn))


def test_precision_at_k_by_hand():
    Y_true = np.array([[0, 1, 1, 0], [1, 0, 0, 0]])
    scores = np.array([[0.1, 0.8, 0.4, 0.3], [0.2, 0.9, 0.3, 0.1]])
    assert precision_at_k(Y_true, scores, k=1) == 0.5  # doc 0 hits, doc 1 misses
    assert precision_at_k(Y_true, scores, k=2) == 0.5  # 2 hits of 4
    # bbsn: label 2 of doc 0 has score 0.4 < 0.5: 1 hit of 4
    assert precision_at_k(Y_true, scores, k=2, variant="bbsn") == 0.25
    # macro, k=1: label 1 ranked twice, one hit
    assert macro_precision_at_k(Y_true, scores, k=1) == 0.5
    # macro, k=2: both documents rank labels 1 and 2; each hits once in 2
    assert macro_precision_at_k(Y_true, scores, k=2) == 0.5
    # bbsn, k=2: label 1 hits 1 of 2, label 2 (score 0.4) 0 of 2
    assert macro_precision_at_k(Y_true, scores, k=2, variant="bbsn") == 0.25


def test_precision_at_k_ties_go_to_lower_index():
    Y_true = np.array([[1, 0, 0], [0, 0, 1]])
    scores = np.full((2, 3), 0.5)
    assert precision_at_k(Y_true, scores, k=1) == 0.5


def test_precision_is_one_for_perfect_scores():
    Y_true, _ = random_problem(4)
    Y_true[:, 0] = 1  # every document has a label
    scores = Y_true.astype(float)
    assert precision_at_k(Y_true, scores, k=1) == 1.0
    assert precision_at_k(Y_true, scores, k=1, variant="bbsn") == 1.0
    assert macro_precision_at_k(Y_true, scores, k=1) == 1.0
    assert ndcg_at_k(Y_true, scores, k=3) == pytest.approx(1.0)


def test_ndcg_matches_sklearn_and_hand():
    Y_true, scores = random_problem(5)
    for k in (1, 3, 5):
        assert ndcg_at_k(Y_true, scores, k) == pytest.approx(
            ndcg_score(Y_true, scores, k=k)
        )
    Y = np.array([[1, 0, 1]])
    s = np.array([[0.9, 0.6, 0.4]])
    ideal = 1 + 1 / np.log2(3)
    assert ndcg_at_k(Y, s, k=2) == pytest.approx(1 / ideal)
    assert ndcg_at_k(Y, s, k=3) == pytest.approx((1 + 0.5) / ideal)


@pytest.mark.parametrize(
    "func", [precision_at_k, macro_precision_at_k, ndcg_at_k]
)
@pytest.mark.parametrize(
    "Y_true, scores, kwargs, match",
    [
        (np.eye(3), np.ones((3, 2)), {}, "one score per item"),
        (np.eye(3) * 2, np.ones((3, 3)), {}, "binary indicator"),
        (np.eye(3), np.ones((3, 3)), {"k": 4}, "exceeds"),
        (np.eye(3), np.ones((3, 3)), {"k": 0}, "positive int"),
        (np.eye(3), np.full((3, 3), np.nan), {}, "NaN"),
        (np.eye(3)[0], np.ones(3), {}, "2-D"),
    ],
)
def test_ranking_errors(func, Y_true, scores, kwargs, match):
    with pytest.raises(ValueError, match=match):
        func(Y_true, scores, **kwargs)


def test_precision_variant_errors():
    with pytest.raises(ValueError, match="variant"):
        precision_at_k(np.eye(3), np.eye(3), variant="micro")
    with pytest.raises(ValueError, match="at least one"):
        precision_at_k(np.zeros((2, 3)), np.ones((2, 3)), variant="bbsn")


def test_agreed_public_api():
    """The names and keywords issue #5's BBSNClassifier is written against."""
    import inspect

    from skcrowd.aggregation import MultiLabelAggregator
    from skcrowd.datasets import (
        load_reuters21578,
        make_long_tailed_multilabel,
        simulate_multilabel_crowd,
    )
    from skcrowd.plotting import plot_label_group_f1

    def params(func):
        return {
            name: (p.kind.name, p.default)
            for name, p in inspect.signature(func).parameters.items()
        }

    kw = "KEYWORD_ONLY"
    assert params(label_frequency_groups)["head"] == (kw, 35)
    assert params(label_frequency_groups)["tail"] == (kw, 8)
    assert params(multilabel_f1_report)["groups"] == (kw, None)
    assert params(precision_at_k)["k"][1] == 1
    assert params(precision_at_k)["variant"] == (kw, "standard")
    assert params(ndcg_at_k)["k"][1] == 3
    assert "variant" in params(macro_precision_at_k)
    assert params(load_reuters21578)["data_home"][1] is None
    p = params(make_long_tailed_multilabel)
    assert [p[n][1] for n in ("n_samples", "n_features", "n_labels")] == [1000, 50, 20]
    assert {"imbalance", "avg_labels", "random_state", "sparse"} <= set(p)
    p = params(simulate_multilabel_crowd)
    assert {"n_workers", "labels_per_item", "worker_profiles", "random_state"} <= set(p)
    assert params(MultiLabelAggregator)["aggregator"][1] is None
    assert params(plot_label_group_f1)["ax"] == (kw, None)
