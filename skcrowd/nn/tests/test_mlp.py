"""The default MLP backbone refuses layer sizes it cannot build."""

import numpy as np
import pytest
import torch

from skcrowd.multilabel._modules import SparseMLP
from skcrowd.nn import MLP
from skcrowd.nn._modules import resolve_backbone


@pytest.mark.parametrize(
    "n_features, hidden_units, match",
    [
        # 0 built a Linear(0, 100) without complaint; -1 a torch RuntimeError
        (0, (100,), "n_features must be a positive int"),
        (-1, (100,), "n_features must be a positive int"),
        (4, (8, 0), "hidden_units must be positive ints"),
        (4, (-1,), "hidden_units must be positive ints"),
        (4, (2.5,), "hidden_units must be positive ints"),
    ],
)
def test_mlp_refuses_non_positive_sizes(n_features, hidden_units, match):
    with pytest.raises(ValueError, match=match):
        MLP(n_features, hidden_units)
    # the estimators' path to the default backbone meets the same check
    with pytest.raises(ValueError, match=match):
        resolve_backbone(None, n_features, hidden_units, 0.0)
    # and so does the multi-label nets' sparse backbone (same one check)
    with pytest.raises(ValueError, match=match):
        SparseMLP(n_features, hidden_units)


def test_mlp_valid_sizes_unchanged():
    mlp = MLP(np.int64(4), [np.int64(3)])
    assert mlp.out_features == 3
    assert mlp(torch.zeros(2, 4)).shape == (2, 3)
    assert MLP(4, ()).out_features == 4
