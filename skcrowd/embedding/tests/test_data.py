import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold, train_test_split
from sklearn.utils import _safe_indexing

from skcrowd.embedding import (
    TripletData,
    check_triplets,
    odd_one_out_to_anchor,
    train_test_split_objects,
)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    rows = np.array([rng.choice(12, 3, replace=False) for _ in range(30)])
    return TripletData(rows, rng.rand(12, 4), workers=rng.choice(["a", "b"], 30))


def test_slicing_selects_triplets_and_keeps_objects(data):
    for key in ([0, 5, 7], np.arange(30) < 4, slice(2, 6), (np.array([1, 2]), ...)):
        part = data[key]
        assert isinstance(part, TripletData)
        assert part.objects is data.objects
        assert part.n_objects == 12
        np.testing.assert_array_equal(
            part.triplets, data.triplets[key[0] if isinstance(key, tuple) else key]
        )
        assert len(part.workers) == len(part)
    assert data[3].triplets.shape == (1, 3)
    with pytest.raises(IndexError):
        data[0, 1]


def test_sklearn_splits_over_triplets(data):
    assert data.shape == (30, 3)
    train, test = train_test_split(data, test_size=0.2, random_state=0)
    assert (len(train), len(test)) == (24, 6)
    assert train.objects is data.objects
    for train_idx, _ in KFold(3).split(data):
        part = _safe_indexing(data, train_idx)
        np.testing.assert_array_equal(part.triplets, data.triplets[train_idx])


def test_constructor_validation():
    with pytest.raises(ValueError, match="shape"):
        TripletData([[0, 1]])
    with pytest.raises(ValueError, match="one worker per triplet"):
        TripletData([[0, 1, 2]], workers=[1, 2])
    with pytest.raises(ValueError, match="n_objects"):
        TripletData([[0, 1, 2]], n_objects=0)
    assert TripletData([[0, 1, 4]]).n_objects == 5
    assert TripletData([[0, 1, 2]], n_objects=10).n_objects == 10
    assert "3 objects" in repr(TripletData([[0, 1, 2]]))


@pytest.mark.parametrize(
    "X, match",
    [
        (np.full((5, 3), 0.5), "integer object indices"),
        (np.ones((5, 2), dtype=int), r"shape \(n_triplets, 3\)"),
        (np.zeros((0, 3), dtype=int), "0 sample"),
        (np.zeros((4, 0)), r"0 feature\(s\)"),
        ([[0, 1, np.nan]], "NaN"),
        ([[0, 1, -1]], "non-negative"),
        ([[0, 1, 1]], "distinct"),
        (np.array([[0, 1, 2]], dtype=complex), "Complex"),
        (TripletData([[0, 1, 5]], np.zeros((3, 2))), "below the number of objects"),
        ({"triplets": [[0, 1, 2]]}, "TripletData"),
    ],
)
def test_check_triplets_errors(X, match):
    with pytest.raises(ValueError, match=match):
        check_triplets(X)


def test_check_triplets_rejects_sparse_and_unknown_objects():
    with pytest.raises(TypeError, match="Sparse"):
        check_triplets(sp.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="not fitted on"):
        check_triplets([[0, 1, 7]], n_objects=5)
    rows, _, _, n = check_triplets(np.array([[0.0, 1.0, 2.0]]))
    assert rows.dtype == np.int64 and n == 3


def test_odd_one_out_to_anchor():
    rows, workers = odd_one_out_to_anchor([[0, 1, 2], [3, 4, 5]], ["a", "b"])
    assert rows.tolist() == [[0, 1, 2], [3, 4, 5], [1, 0, 2], [4, 3, 5]]
    assert workers.tolist() == ["a", "b", "a", "b"]


def test_train_test_split_objects(data):
    train, test, test_objects = train_test_split_objects(
        data, test_size=0.5, random_state=0
    )
    assert len(test_objects) == 6
    assert np.isin(test.triplets, test_objects).all()
    assert not np.isin(train.triplets, test_objects).any()
    assert train.objects is data.objects
    with pytest.raises(ValueError, match="test_size"):
        train_test_split_objects(data, test_size=1.5)
    with pytest.raises(ValueError, match="TripletData"):
        train_test_split_objects(data.triplets)


def test_a_stray_huge_index_is_rejected_unless_the_count_is_given():
    rows = np.array([[0, 1, 2], [2, 1, 0], [0, 3, 2_000_000]])
    with pytest.raises(ValueError, match="only 5 distinct objects.*n_objects=2000001"):
        check_triplets(rows)
    with pytest.raises(ValueError, match="only 5 distinct objects"):
        TripletData(rows)
    # the same count given explicitly is taken as meant
    data = TripletData(rows, n_objects=2_000_001)
    assert check_triplets(data)[3] == 2_000_001
    # below a million objects the largest index is trusted as it is
    assert check_triplets([[0, 1, 999_999]])[3] == 1_000_000
    # and above it, when the triplets name objects up to it densely enough
    dense = np.arange(3 * 20_000).reshape(-1, 3) * 50
    assert check_triplets(dense)[3] == int(dense.max()) + 1


@pytest.mark.parametrize(
    "triplets, workers",
    [
        ([[0, 1]], None),  # IndexError
        ("abc", None),  # IndexError
        ([[0, 1, 2.5]], None),  # float indices passed through
        ([[0, 1, np.nan]], None),  # NaN passed through
        ([[0, 1, -1]], None),  # negative index passed through
        ([[0, 1, 2], [2, 3, 4]], ["a"]),  # workers of the wrong length kept
    ],
)
def test_odd_one_out_to_anchor_bad_input(triplets, workers):
    with pytest.raises(ValueError, match="triplets must be|workers must have"):
        odd_one_out_to_anchor(triplets, workers)
