"""Bad input to the metric functions: a clear ValueError, inputs untouched."""

import numpy as np
import pytest

from skcrowd.metrics import (
    clustering_purity,
    crowd_agreement,
    crowd_log_likelihood,
    triplet_accuracy,
    view_attribute_scores,
)

Y = np.array([[0, 1], [1, np.nan], [np.nan, 0]])
PROBA = np.full((3, 2), 0.5)
EMB = np.array([[0.0], [0.1], [1.0]])
VIEWS = np.array([[[0.0]], [[0.1]], [[1.0]], [[1.1]]])  # 4 objects, 1 view
ATTR = np.array([0, 0, 1, 1])

CASES = [
    # a short sample_weight was indexed past its end (IndexError)
    (crowd_agreement, ([0, 1, 0], Y), dict(sample_weight=[1.0, 1.0]), "sample"),
    # all-zero weights: ZeroDivisionError from np.average
    (crowd_agreement, ([0, 1, 0], Y), dict(sample_weight=[0, 0, 0]), "non-zero"),
    # a NaN weight gave a NaN agreement
    (crowd_agreement, ([0, 1, 0], Y), dict(sample_weight=[np.nan, 1, 1]), "NaN"),
    # NaN, negative or > 1 probabilities gave NaN or a meaningless number
    (crowd_log_likelihood, (np.where(PROBA > 0, np.nan, 0), Y), {}, "NaN"),
    (crowd_log_likelihood, (PROBA - 1, Y), {}, r"in \[0, 1\]"),
    (crowd_log_likelihood, (PROBA * 3, Y), {}, r"in \[0, 1\]"),
    (crowd_log_likelihood, (PROBA, Y), dict(eps=np.nan), "eps"),
    (crowd_log_likelihood, (PROBA, Y), dict(eps=-1.0), "eps"),
    # no triplet: NaN accuracy; NaN embedding: 0.0 accuracy
    (triplet_accuracy, (EMB, np.empty((0, 3), dtype=int)), {}, "empty"),
    (triplet_accuracy, ([[0.0], [np.nan], [1.0]], [[0, 1, 2]]), {}, "NaN"),
    # np.unique flattened 2-D labels: purity 2.0
    (clustering_purity, ([[0, 1]], [[0, 1]]), {}, "1-D"),
    # n_clusters=0 was read as None; 2.5 or -1 failed inside scikit-learn
    (view_attribute_scores, (VIEWS, ATTR), dict(n_clusters=0), "n_clusters must"),
    (view_attribute_scores, (VIEWS, ATTR), dict(n_clusters=-1), "n_clusters must"),
    (view_attribute_scores, (VIEWS, ATTR), dict(n_clusters=2.5), "n_clusters must"),
    # no object: scikit-learn's confusing "n_clusters=0" error
    (view_attribute_scores, (np.empty((0, 1, 1)), np.empty(0)), {}, "empty"),
]


@pytest.mark.parametrize(
    "func, args, kwargs, match", CASES, ids=[f"{c[0].__name__}-{c[3]}" for c in CASES]
)
def test_bad_input_raises_clear_value_error(func, args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        func(*args, **kwargs)


def test_valid_weights_and_inputs_untouched():
    w = np.array([1.0, 2.0, 0.0])
    y_pred = np.array([0, 1, 0])
    Y_copy, w_copy = Y.copy(), w.copy()
    assert crowd_agreement(y_pred, Y, sample_weight=w) == pytest.approx(0.75)
    np.testing.assert_array_equal(Y, Y_copy)
    np.testing.assert_array_equal(w, w_copy)
    assert crowd_log_likelihood(PROBA, Y, eps=0.0) == pytest.approx(np.log(0.5))


def test_view_attribute_scores_n_clusters_none_or_int_unchanged():
    default = view_attribute_scores(VIEWS, ATTR, random_state=0)
    explicit = view_attribute_scores(VIEWS, ATTR, n_clusters=2, random_state=0)
    np.testing.assert_array_equal(default.nmi, [[1.0]])
    np.testing.assert_array_equal(explicit.nmi, default.nmi)
    one = view_attribute_scores(VIEWS, ATTR, n_clusters=np.int64(1), random_state=0)
    np.testing.assert_array_equal(one.purity, [[0.5]])
