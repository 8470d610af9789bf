"""Multi-label losses on logits (torch).

Every loss takes logits ``z`` and targets ``y`` in ``[0, 1]`` (hard or
soft), both ``(batch, n_labels)``, and returns the mean over all
``batch x n_labels`` entries, like ``torch.nn.BCEWithLogitsLoss``. With
:math:`p = \\sigma(z)`:

- ``bce``: :math:`-[y \\log p + (1-y) \\log(1-p)]`.
- ``focal`` (Lin et al., "Focal Loss for Dense Object Detection", ICCV
  2017), per label: :math:`-[y (1-p)^\\gamma \\log p + (1-y) p^\\gamma
  \\log(1-p)]`, :math:`\\gamma = 2`.
- ``class-balanced`` (Cui et al., "Class-Balanced Loss Based on Effective
  Number of Samples", CVPR 2019): label ``c``'s BCE weighted by
  :math:`w_c \\propto (1-\\beta)/(1-\\beta^{n_c})`, the inverse effective
  number of its :math:`n_c` positive training examples, normalised so that
  :math:`\\sum_c w_c = C`; :math:`\\beta = 0.999`.
- ``distribution-balanced`` (Wu et al., "Distribution-Balanced Loss for
  Multi-Label Classification in Long-Tailed Datasets", ECCV 2020): the
  re-balanced weight of instance ``k`` and label ``i``,
  :math:`r_{ki} = (1/n_i) / \\sum_{j: y_{kj}=1} 1/n_j`, smoothed to
  :math:`\\hat r = \\alpha + \\sigma(\\beta_r (r - \\mu))` (:math:`\\alpha=0.1,
  \\beta_r=10, \\mu=0.3`), and the negative-tolerant regularisation: logits
  shifted by the class prior, :math:`s = z + \\kappa \\hat b_i / \\lambda` with
  :math:`\\hat b_i = \\log(p_i / (1 - p_i))`, :math:`p_i = n_i / N`
  (:math:`\\kappa = 0.05`), and negatives scaled by :math:`\\lambda = 2`:
  :math:`\\hat r [y\\, \\mathrm{softplus}(-s) + (1-y) \\tfrac{1}{\\lambda}
  \\mathrm{softplus}(\\lambda s)]` (the authors' code, ``ResampleLoss``).
  The shift is a training device only: prediction uses the plain logits.
- ``asymmetric`` (Ridnik et al., "Asymmetric Loss For Multi-Label
  Classification", ICCV 2021): :math:`-[y (1-p)^{\\gamma_+} \\log p + (1-y)
  p_m^{\\gamma_-} \\log(1-p_m)]`, with the shifted probability
  :math:`p_m = \\max(p - m, 0)`, :math:`\\gamma_+ = 0, \\gamma_- = 4,
  m = 0.05`.

Label statistics (``counts`` :math:`n_c` and ``n_samples`` :math:`N`) come
from the training targets; soft targets count fractionally.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["LOSSES", "MultiLabelLoss", "masked_bce"]

#: hyper-parameters of each loss and their defaults (the papers' values)
LOSSES = {
    "bce": {},
    "focal": {"gamma": 2.0},
    "class-balanced": {"beta": 0.999},
    "distribution-balanced": {
        "alpha": 0.1,
        "beta": 10.0,
        "mu": 0.3,
        "kappa": 0.05,
        "neg_scale": 2.0,
    },
    "asymmetric": {"gamma_pos": 0.0, "gamma_neg": 4.0, "clip": 0.05},
}


def _log_sigmoid_parts(z):
    return F.logsigmoid(z), F.logsigmoid(-z)  # log p, log(1 - p)


class MultiLabelLoss(torch.nn.Module):
    """One of :data:`LOSSES` with its label statistics.

    Parameters
    ----------
    name : str
        A key of :data:`LOSSES`.
    counts : array-like of shape (n_labels,)
        Positive training examples per label (soft labels: their sum).
    n_samples : int
        Training examples.
    **params :
        Overrides of the loss's hyper-parameters.
    """

    def __init__(self, name, counts, n_samples, **params):
        super().__init__()
        if name not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}; got {name!r}.")
        unknown = set(params) - set(LOSSES[name])
        if unknown:
            raise ValueError(
                f"Unknown parameters {sorted(unknown)} for loss {name!r}; it takes "
                f"{sorted(LOSSES[name]) or 'none'}."
            )
        self.name = name
        self.params = {**LOSSES[name], **params}
        counts = torch.as_tensor(counts, dtype=torch.float32).clamp(min=1.0)
        n = float(n_samples)
        self.register_buffer("counts", counts)
        if name == "class-balanced":
            beta = self.params["beta"]
            w = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta), counts))
            self.register_buffer("class_weight", w * len(w) / w.sum())
        if name == "distribution-balanced":
            prior = (counts / n).clamp(1.0 / (n + 1.0), n / (n + 1.0))
            bias = torch.log(prior / (1.0 - prior))
            self.register_buffer(
                "logit_shift", self.params["kappa"] * bias / self.params["neg_scale"]
            )
            self.register_buffer("freq_inv", 1.0 / counts)

    def forward(self, z, y):
        name, p = self.name, self.params
        if name == "bce":
            return F.binary_cross_entropy_with_logits(z, y)
        if name == "focal":
            log_p, log_q = _log_sigmoid_parts(z)
            prob = torch.sigmoid(z)
            g = p["gamma"]
            loss = -(y * (1 - prob) ** g * log_p + (1 - y) * prob**g * log_q)
            return loss.mean()
        if name == "class-balanced":
            loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
            return (loss * self.class_weight).mean()
        if name == "distribution-balanced":
            # re-balanced weights r_ki = (1/n_i) / sum_{j in pos(k)} 1/n_j
            repeat = (y * self.freq_inv).sum(dim=1, keepdim=True)
            r = self.freq_inv / repeat.clamp(min=1e-12)
            weight = p["alpha"] + torch.sigmoid(p["beta"] * (r - p["mu"]))
            s = z + self.logit_shift
            lam = p["neg_scale"]
            loss = y * F.softplus(-s) + (1 - y) * F.softplus(lam * s) / lam
            return (weight * loss).mean()
        # asymmetric
        prob = torch.sigmoid(z)
        log_p = F.logsigmoid(z)
        shifted = (prob - p["clip"]).clamp(min=0.0)
        log_q = torch.log((1 - shifted).clamp(min=1e-8))
        pos = (1 - prob) ** p["gamma_pos"] * log_p
        neg = shifted ** p["gamma_neg"] * log_q
        return -(y * pos + (1 - y) * neg).mean()

    def extra_repr(self):
        return f"name={self.name!r}, params={self.params}"


def masked_bce(z, target, mask):
    """BBSN's masked similarity loss ``BCELoss(sigma(z * m) * m, g * m)``.

    Averaged over **all** entries: masked ones contribute 0 (``BCE(0, 0)``
    with PyTorch's log clamp at -100) but count in the denominator, as in
    the original (BB:rcv1_bbsn.py).
    """
    prob = torch.sigmoid(z * mask) * mask
    # diverged (NaN) similarities: torch's BCE raised "all elements of input
    # should be between 0 and 1" mid-training; the fit now ends and reports
    # the divergence (identity on every finite probability)
    prob = torch.nan_to_num(prob)
    return F.binary_cross_entropy(prob, target * mask)
