import numpy as np
import pytest

from skcrowd.metrics import multilabel_f1_report
from skcrowd.plotting import plot_label_group_f1

mpl = pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def _agg():
    mpl.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def reports():
    rng = np.random.RandomState(0)
    Y = (rng.rand(50, 6) < 0.3).astype(int)
    groups = ["head", "head", "medium", "medium", "tail", "tail"]
    out = {}
    for name, flip in (("a", 0.1), ("b", 0.3)):
        pred = np.where(rng.rand(*Y.shape) < flip, 1 - Y, Y)
        out[name] = multilabel_f1_report(Y, pred, groups=groups)
    return out


def bar_heights(ax):
    return [[p.get_height() for p in c.patches] for c in ax.containers]


def test_bars_are_the_reported_scores():
    results = reports()
    ax = plot_label_group_f1(results)
    heights = bar_heights(ax)
    assert len(heights) == 2
    for h, report in zip(heights, results.values(), strict=True):
        expected = [report[g]["macro"] for g in ("entire", "head", "medium", "tail")]
        np.testing.assert_allclose(h, expected)
    # model a's bars left of model b's in every group
    a, b = ax.containers
    assert all(pa.get_x() < pb.get_x() for pa, pb in zip(a, b, strict=True))
    assert len(ax.texts) == 8  # annotated


def test_micro_nan_groups_and_given_axes():
    import matplotlib.pyplot as plt

    results = reports()
    results["a"]["medium"] = {"micro": np.nan, "macro": np.nan}
    results["b"]["medium"] = {"micro": np.nan, "macro": np.nan}
    results["b"]["tail"] = {"micro": np.nan, "macro": np.nan}
    results["c"] = {"entire": {"micro": 0.5, "macro": 0.4}}
    _, given = plt.subplots()
    ax = plot_label_group_f1(results, average="micro", annotate=False, ax=given)
    assert ax is given and ax.get_ylabel() == "micro-F1"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["entire", "head", "tail"]
    heights = bar_heights(ax)
    assert len(heights[0]) == 3 and len(heights[1]) == 2 and heights[2] == [0.5]
    assert not ax.texts


@pytest.mark.parametrize(
    "results, kwargs, match",
    [
        ({}, {}, "non-empty"),
        ({"a": {"head": {"macro": 1.0}}}, {}, "'entire'"),
        ({"a": {"entire": {"micro": 1.0}}}, {}, "no 'macro'"),
        ({"a": {"entire": {"macro": 1.0}}}, {"average": "weighted"}, "average"),
    ],
)
def test_errors(results, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_label_group_f1(results, **kwargs)
