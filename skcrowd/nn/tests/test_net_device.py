"""The net's loss sees the target on the net's device.

There is no GPU to train on here. torch's ``meta`` device stands in for
CUDA: like CUDA, it refuses to mix its tensors with CPU tensors (other than
0-d ones) in one operation, and it runs forward and loss without data. A
training step is ``infer`` (skorch moves X to ``device``) then ``get_loss``
on the batch's target as the DataLoader made it, on the CPU.
"""

import numpy as np
import pytest
import torch

from skcrowd.nn import CROWD_MODELS, MLP, CrowdNetModule
from skcrowd.nn._net import make_skorch_net_class

# every observed pair is labelled: no empty batch, no data-dependent shapes
# (annot-mix's loss reads ``bool(observed.any())``, which meta cannot)
MODELS = [name for name in CROWD_MODELS if name != "annot-mix"]
TARGET = torch.tensor(
    # [workers | labels | item index]
    [[0, 3, 1, 2, 0], [1, -1, 0, -1, 1], [2, 3, 1, 1, 2], [0, 1, 2, 2, 3]]
)


def _net(module):
    net = make_skorch_net_class()(
        module=module, criterion=torch.nn.CrossEntropyLoss, device="meta"
    )
    return net.initialize()


@pytest.mark.parametrize("mixup_alpha", [0.0, 1.0])
@pytest.mark.parametrize("name", MODELS)
def test_crowd_loss_gets_the_target_on_the_net_device(name, mixup_alpha):
    torch.manual_seed(0)
    crowd_model = CROWD_MODELS[name](n_classes=3, n_workers=4, rep_size=8, reg=0.1)
    crowd_model.initialize_from_crowd(
        np.array([0, 1]), np.array([0, 1]), np.array([0, 1]), 4
    )
    module = CrowdNetModule(
        MLP(5, (8,)), 8, 3, crowd_model, log_prior=torch.zeros(3),
        mixup_alpha=mixup_alpha,
    )
    net = _net(module)
    net.module_.train()
    y_pred = net.infer(torch.randn(4, 5))
    loss = net.get_loss(y_pred, TARGET, training=True)
    assert loss.device.type == "meta" and loss.shape == ()


def test_multilabel_loss_gets_the_target_on_the_net_device():
    from skcrowd.multilabel._losses import MultiLabelLoss
    from skcrowd.multilabel._modules import MultiLabelNetModule, SparseMLP

    loss = MultiLabelLoss("distribution-balanced", np.array([3.0, 1.0]), 10)
    net = _net(MultiLabelNetModule(SparseMLP(6, (8,)), 8, 2, loss))
    y_pred = net.infer(torch.randn(4, 6))
    out = net.get_loss(y_pred, torch.ones(4, 2), training=True)
    assert out.device.type == "meta"
