"""The multi-label losses against values computed by hand (math module)."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skcrowd.multilabel._losses import LOSSES, MultiLabelLoss, masked_bce  # noqa: E402

Z = torch.tensor([[0.0, 2.0]])
Y = torch.tensor([[1.0, 0.0]])


def softplus(x):
    return math.log1p(math.exp(x))


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def value(name, counts=(1, 3), n=4, **params):
    return float(MultiLabelLoss(name, counts, n, **params)(Z, Y))


def test_bce():
    expected = (softplus(-0.0) + softplus(2.0)) / 2
    assert value("bce") == pytest.approx(expected, rel=1e-6)


def test_focal():
    p1 = sigmoid(2.0)
    expected = ((1 - 0.5) ** 2 * math.log(2) + p1**2 * softplus(2.0)) / 2
    assert value("focal") == pytest.approx(expected, rel=1e-6)
    # gamma = 0 is the BCE
    assert value("focal", gamma=0.0) == pytest.approx(value("bce"), rel=1e-6)


def test_class_balanced():
    beta = 0.5
    w = np.array([(1 - beta) / (1 - beta**1), (1 - beta) / (1 - beta**3)])
    w = w * 2 / w.sum()  # [1.2727, 0.7273]
    expected = (w[0] * math.log(2) + w[1] * softplus(2.0)) / 2
    assert value("class-balanced", beta=beta) == pytest.approx(expected, rel=1e-6)
    assert w[0] > w[1]  # the rare label weighs more


def test_distribution_balanced():
    # counts (1, 3) of N = 4; the instance's only positive label is label 0
    r = np.array([1.0, 1.0 / 3.0]) / 1.0  # (1/n_i) / sum_{pos} 1/n_j
    w = 0.1 + 1 / (1 + np.exp(-10 * (r - 0.3)))
    prior = np.array([0.25, 0.75])
    shift = 0.05 * np.log(prior / (1 - prior)) / 2
    s = np.array([0.0, 2.0]) + shift
    expected = (w[0] * softplus(-s[0]) + w[1] * softplus(2 * s[1]) / 2) / 2
    assert value("distribution-balanced") == pytest.approx(expected, rel=1e-6)


def test_asymmetric():
    pm = sigmoid(2.0) - 0.05
    expected = (math.log(2) + pm**4 * -math.log(1 - pm)) / 2
    assert value("asymmetric") == pytest.approx(expected, rel=1e-5)
    # no focusing and no clip is the BCE
    plain = value("asymmetric", gamma_neg=0.0, clip=0.0)
    assert plain == pytest.approx(value("bce"), rel=1e-5)


def test_soft_targets_interpolate():
    """Every loss but DB's (whose weights depend on y) is linear in y."""
    y = torch.full_like(Z, 0.3)
    for name in LOSSES:
        loss = MultiLabelLoss(name, (2, 2), 4)
        soft = float(loss(Z, y))
        ones = float(loss(Z, torch.ones_like(Z)))
        zeros = float(loss(Z, torch.zeros_like(Z)))
        assert np.isfinite(soft) and min(ones, zeros) >= 0
        if name != "distribution-balanced":
            assert soft == pytest.approx(0.3 * ones + 0.7 * zeros, rel=1e-5)


def test_masked_bce_counts_masked_entries_in_the_mean():
    z = torch.tensor([[2.0, -1.0, 3.0]])
    g = torch.tensor([[1.0, 0.0, 0.0]])
    m = torch.tensor([[1.0, 1.0, 0.0]])
    expected = (softplus(-2.0) + softplus(-1.0) + 0.0) / 3
    assert float(masked_bce(z, g, m)) == pytest.approx(expected, rel=1e-5)


def test_unknown_loss_and_parameter_are_rejected():
    with pytest.raises(ValueError, match="loss must be one of"):
        MultiLabelLoss("hinge", (1, 1), 2)
    with pytest.raises(ValueError, match="Unknown parameters"):
        MultiLabelLoss("focal", (1, 1), 2, beta=0.3)
