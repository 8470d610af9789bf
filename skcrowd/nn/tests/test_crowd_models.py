"""Unit tests of the crowd models (torch only, no training loop)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.nn import functional as F  # noqa: E402

from skcrowd.classification import CROWD_MODEL_NAMES  # noqa: E402
from skcrowd.nn import CROWD_MODELS  # noqa: E402
from skcrowd.nn._crowd_models import (  # noqa: E402
    CoNAL,
    InstanceConfusion,
    RaykarEM,
)
from skcrowd.nn._modules import (  # noqa: E402
    crowd_target_index,
    split_crowd_target,
)

K, N_WORKERS, REP = 3, 5, 7


@pytest.fixture(autouse=True)
def _seeded():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yield


def make_model(name, **kwargs):
    model = CROWD_MODELS[name](K, N_WORKERS, REP, reg=kwargs.pop("reg", 0.01), **kwargs)
    # every model's data-dependent state (only EM has some)
    item = np.array([0, 0, 1, 2, 3, 3, 3])
    worker = np.array([0, 1, 2, 0, 1, 2, 4])
    label = np.array([0, 0, 1, 2, 1, 1, 0])
    model.initialize_from_crowd(item, worker, label, 4)
    return model


def batch():
    """4 items, up to 3 pairs each, ``-1``-padded."""
    logits = torch.randn(4, K, requires_grad=True)
    rep = torch.randn(4, REP, requires_grad=True)
    workers = torch.tensor([[0, 1, -1], [2, -1, -1], [0, -1, -1], [1, 2, 4]])
    labels = torch.tensor([[0, 0, -1], [1, -1, -1], [2, -1, -1], [1, 1, 0]])
    return logits, rep, workers, labels


def test_registry_matches_the_estimator():
    assert set(CROWD_MODELS) == set(CROWD_MODEL_NAMES)
    for name, cls in CROWD_MODELS.items():
        assert cls.name == name


@pytest.mark.parametrize("name", CROWD_MODEL_NAMES)
def test_distributions_are_normalised(name):
    model = make_model(name)
    logits, rep, workers, labels = batch()
    w = workers.clamp_min(0)
    cond = model.log_conditional(rep, w)
    assert cond.shape == (4, 3, K, K)
    np.testing.assert_allclose(cond.logsumexp(-1).detach(), 0.0, atol=1e-5)
    ann = model.log_annotation_proba(logits, rep, w)
    assert ann.shape == (4, 3, K)
    np.testing.assert_allclose(ann.logsumexp(-1).detach(), 0.0, atol=1e-5)
    post = model.log_posterior(logits, rep, workers, labels)
    assert post.shape == (4, K)
    np.testing.assert_allclose(post.logsumexp(-1).detach(), 0.0, atol=1e-5)
    conf = model.mean_confusion(rep.detach())
    assert conf.shape == (N_WORKERS, K, K)
    np.testing.assert_allclose(conf.sum(-1).detach(), 1.0, atol=1e-5)


@pytest.mark.parametrize("name", CROWD_MODEL_NAMES)
def test_loss_is_finite_differentiable_and_ignores_padding(name):
    model = make_model(name)
    logits, rep, workers, labels = batch()
    index = torch.arange(4)
    kwargs = {"index": index} if model.uses_item_index else {}
    torch.manual_seed(1)  # the same dropout masks (annot-mix) for both calls
    loss = model.loss(logits, rep, workers, labels, **kwargs)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    # more padding changes nothing
    pad = torch.full((4, 2), -1)
    torch.manual_seed(1)
    wider = model.loss(
        logits, rep, torch.cat([workers, pad], 1), torch.cat([labels, pad], 1), **kwargs
    )
    assert torch.allclose(loss, wider, atol=1e-6)


def test_target_split_drops_the_item_index():
    target = torch.tensor([[0, 1, 2, 0, 7], [3, -1, 1, -1, 8]])
    workers, labels = split_crowd_target(target)
    assert workers.tolist() == [[0, 1], [3, -1]]
    assert labels.tolist() == [[2, 0], [1, -1]]
    assert crowd_target_index(target).tolist() == [7, 8]
    assert crowd_target_index(target[:, :4]) is None
    assert split_crowd_target(target[:, :4])[1].tolist() == labels.tolist()


# -- CoNAL -------------------------------------------------------------------
def test_conal_mixes_common_and_individual_confusions():
    model = make_model("conal")
    with torch.no_grad():
        model.common.copy_(torch.randn(K, K))
        model.individual.copy_(torch.randn(N_WORKERS, K, K))
    logits, rep, workers, _ = batch()
    w = workers.clamp_min(0)
    omega = model.common_weight(rep, w)
    assert omega.shape == (4, 3) and ((omega > 0) & (omega < 1)).all()
    # by hand, for item 3 and its worker 2
    e = F.normalize(model.instance_net(rep[3]), dim=0)
    u = F.normalize(model.worker_embedding.weight[2], dim=0)
    om = torch.sigmoid(e @ u)
    p = F.softmax(logits[3], dim=0)
    scores = om * (p @ model.common) + (1 - om) * (p @ model.individual[2])
    expected = F.log_softmax(scores, dim=0)
    got = model.log_annotation_proba(logits, rep, w)[3, 1]
    torch.testing.assert_close(got, expected)
    # the conditional is the same at a one-hot class distribution
    cond = model.log_conditional(rep, w)[3, 1]
    one_hot = om * model.common + (1 - om) * model.individual[2]
    torch.testing.assert_close(cond, F.log_softmax(one_hot, dim=-1))
    assert CoNAL.default_reg == 1e-5
    with pytest.raises(ValueError, match="depends on the item"):
        model.log_conditional(None, w)


def test_conal_regulariser_pushes_individual_away_from_common():
    model = make_model("conal", reg=0.5)
    logits = torch.zeros(1, K)
    with torch.no_grad():
        model.individual.copy_(torch.randn(N_WORKERS, K, K))
    expected = -0.5 * sum(
        torch.linalg.norm(model.individual[r] - model.common) for r in range(N_WORKERS)
    )
    torch.testing.assert_close(model.regularization(logits, None), expected)


def test_conal_low_rank_matches_the_materialised_matrices():
    model = make_model("conal", reg=0.3, rank=2)
    assert not hasattr(model, "individual")
    with torch.no_grad():
        model.u.copy_(torch.randn_like(model.u))
        model.v.copy_(torch.randn_like(model.v))
        model.common.copy_(torch.randn(K, K))
    logits, rep, workers, _ = batch()
    w = workers.clamp_min(0)
    full = model._individual(torch.arange(N_WORKERS))  # (W, K, K)
    omega = model.common_weight(rep, w).unsqueeze(-1)
    p = F.softmax(logits, dim=1)
    indiv = torch.einsum("bk,blkm->blm", p, full[w])
    expected = F.log_softmax(
        omega * (p @ model.common)[:, None] + (1 - omega) * indiv, -1
    )
    torch.testing.assert_close(model.log_annotation_proba(logits, rep, w), expected)
    reg = -0.3 * (full - model.common).flatten(1).norm(dim=1).sum()
    torch.testing.assert_close(model.regularization(logits, rep), reg)


# -- instance-dependent model -------------------------------------------------
def test_instance_model_is_a_mixture_of_own_and_failure_confusions():
    model = make_model("instance")
    logits, rep, workers, _ = batch()
    w = workers.clamp_min(0)
    omega = torch.sigmoid(model.failure_logit(rep, w))[..., None, None]
    own = model.worker_log_confusion(w).exp()
    failure = F.softmax(model.failure_logits, dim=-1)
    expected = ((1 - omega) * own + omega * failure).log()
    torch.testing.assert_close(model.log_conditional(rep, w), expected)
    # at start: the worker is right with probability 0.8 and rarely fails
    own_all = model.worker_log_confusion(torch.arange(N_WORKERS)).exp()
    np.testing.assert_allclose(
        torch.diagonal(own_all, dim1=1, dim2=2).detach(), 0.8, rtol=1e-5
    )
    assert (omega < 0.2).all()
    with pytest.raises(ValueError, match="depends on the item"):
        model.log_conditional(None, w)


def test_instance_model_confusion_depends_on_item_and_worker():
    model = make_model("instance")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5 * torch.randn_like(p))
    rep = torch.randn(2, REP)
    same = torch.tensor([[0], [0]])
    cond = model.log_conditional(rep, same)
    assert not torch.allclose(cond[0], cond[1])  # two items, one worker
    both = model.log_conditional(rep[:1], torch.tensor([[0, 1]]))
    assert not torch.allclose(both[0, 0], both[0, 1])  # one item, two workers


def test_instance_model_size_grows_linearly_in_classes_per_worker():
    def n_params(n_classes, n_workers):
        m = InstanceConfusion(n_classes, n_workers, REP, rank=4)
        return sum(p.numel() for p in m.parameters())

    k = 50
    per_worker = (n_params(k, 20) - n_params(k, 10)) / 10
    assert per_worker == InstanceConfusion.embedding_dim + k + 1  # not k * k
    assert InstanceConfusion(2, 3, REP).n_factors == 2  # rank at most K


def test_instance_model_regulariser_is_l2_on_worker_embeddings():
    model = make_model("instance", reg=0.2)
    expected = 0.2 * model.worker_embedding.weight.pow(2).sum(1).mean()
    torch.testing.assert_close(model.regularization(torch.zeros(1, K), None), expected)
    assert make_model("instance", reg=0.0).regularization(torch.zeros(1, K), None) == 0


# -- EM ------------------------------------------------------------------------
def test_em_starts_from_the_soft_majority_vote():
    model = make_model("em")
    expected = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1 / 3, 2 / 3, 0]]
    np.testing.assert_allclose(model.posterior, expected, atol=1e-6)
    empty = RaykarEM(2, 2, REP)
    empty.initialize_from_crowd(np.array([0]), np.array([1]), np.array([1]), 2)
    np.testing.assert_allclose(empty.posterior, [[0, 1], [0.5, 0.5]])  # no label


def test_em_loss_is_cross_entropy_on_the_posteriors_of_its_rows():
    model = make_model("em")
    logits, rep, workers, labels = batch()
    index = torch.tensor([3, 0, 2, 1])  # shuffled rows
    loss = model.loss(logits, rep, workers, labels, index=index)
    q = model.posterior[index]
    expected = -(q * F.log_softmax(logits, 1)).sum(1).mean()
    torch.testing.assert_close(loss, expected)
    # a row without labels does not count
    labels2 = labels.clone()
    labels2[1] = -1
    q2 = torch.cat([q[:1], q[2:]])
    expected2 = (
        -(q2 * F.log_softmax(torch.cat([logits[:1], logits[2:]]), 1)).sum(1).mean()
    )
    torch.testing.assert_close(
        model.loss(logits, rep, workers, labels2, index=index), expected2
    )


def test_em_epoch_end_is_one_m_step_and_one_e_step_by_hand():
    # 3 items, 2 workers, 2 classes; worker 1 always answers 1
    item = np.array([0, 0, 1, 1, 2])
    worker = np.array([0, 1, 0, 1, 0])
    label = np.array([0, 1, 1, 1, 0])
    alpha = 0.5
    model = RaykarEM(2, 2, REP, reg=alpha)
    model.initialize_from_crowd(item, worker, label, 3)
    q0 = np.array([[0.5, 0.5], [0, 1], [1, 0]])
    np.testing.assert_allclose(model.posterior, q0)
    logits = torch.log(torch.tensor([[0.6, 0.4], [0.3, 0.7], [0.9, 0.1]]))
    # target rows [workers | labels | index], in two batches, shuffled
    target = torch.tensor([[0, 1, 0, 1, 0], [0, -1, 0, -1, 2], [0, 1, 1, 1, 1]])
    batches = [(logits[[0, 2]], None, target[:2]), (logits[[1]], None, target[2:])]
    model.on_epoch_end(batches, n_train_batches=2)
    # M-step by hand: counts[r, k, l] = sum of q_ik over the items r labelled l
    counts = np.full((2, 2, 2), alpha)
    for i, r, lab in zip(item, worker, label, strict=True):
        counts[r, :, lab] += q0[i]
    pi = counts / counts.sum(-1, keepdims=True)
    np.testing.assert_allclose(model.log_confusion.exp(), pi, rtol=1e-5)
    # E-step by hand: q_ik ∝ p(k|x_i) prod_r pi_r[k, y_ir]
    p = np.array([[0.6, 0.4], [0.3, 0.7], [0.9, 0.1]])
    q = p.copy()
    for i, r, lab in zip(item, worker, label, strict=True):
        q[i] *= pi[r, :, lab]
    q /= q.sum(1, keepdims=True)
    np.testing.assert_allclose(model.posterior, q, rtol=1e-5)


def test_em_validation_rows_get_e_steps_but_no_m_step():
    item, worker, label = np.array([0, 1]), np.array([0, 0]), np.array([0, 1])
    model = RaykarEM(2, 1, REP, reg=0.1)
    model.initialize_from_crowd(item, worker, label, 2)
    logits = torch.zeros(2, 2)
    target = torch.tensor([[0, 0, 0], [0, 1, 1]])
    model.on_epoch_end(
        [(logits[:1], None, target[:1]), (logits[1:], None, target[1:])], 1
    )
    # the worker's row 1 has only the smoothing: item 1 (label 1) was held out
    np.testing.assert_allclose(model.log_confusion[0, 1].exp(), [0.5, 0.5])
    assert model.posterior[1, 1] > 0.5  # but its posterior was updated


def test_em_without_index_uses_the_current_posterior():
    model = make_model("em")
    logits, rep, workers, labels = batch()
    loss = model.loss(logits, rep, workers, labels)
    q = model.log_posterior(logits, rep, workers, labels).exp().detach()
    torch.testing.assert_close(loss, -(q * F.log_softmax(logits, 1)).sum(1).mean())


def test_a_registered_model_is_accepted_by_crowd_classifier():
    from skcrowd.classification import CrowdClassifier
    from skcrowd.datasets import make_crowd_classification
    from skcrowd.nn import register_crowd_model

    X, Y, _ = make_crowd_classification(n_samples=40, n_workers=4, random_state=0)
    params = dict(hidden_units=(4,), max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match="crowd_model"):
        CrowdClassifier(crowd_model="user-model", **params).fit(X, Y)

    @register_crowd_model("user-model")
    class UserModel(CROWD_MODELS["crowdlayer-vw"]):
        pass

    try:
        clf = CrowdClassifier(crowd_model="user-model", **params).fit(X, Y)
        assert type(clf.net_.module_.crowd_model) is UserModel
        assert clf.worker_confusion_.shape == (4, 3, 3)
    finally:
        del CROWD_MODELS["user-model"]
    with pytest.raises(ValueError, match="crowd_model"):
        CrowdClassifier(crowd_model="user-model", **params).fit(X, Y)


def test_annot_mix_is_a_mixture_over_the_true_class_per_pair():
    """p(label | x, r) = sum_k p(k | x) C(x, r)[k, label], one network
    output per (item, worker) pair; the loss is its mean cross-entropy."""
    model = make_model("annot-mix").eval()
    logits, rep, workers, labels = batch()
    w = workers.clamp_min(0)
    cond = model.log_conditional(rep, w).exp()  # (B, L, K, K)
    by_hand = torch.einsum("bk,blkj->blj", logits.softmax(1), cond)
    np.testing.assert_allclose(
        model.log_annotation_proba(logits, rep, w).exp().detach(),
        by_hand.detach(), atol=1e-6,
    )
    observed = labels >= 0
    nll = -by_hand[observed].log().gather(1, labels[observed][:, None])
    np.testing.assert_allclose(
        model.loss(logits, rep, workers, labels).item(), nll.mean().item(), rtol=1e-5
    )
    # the confusion depends on the item (through its representation)
    other = model.log_conditional(rep.flip(0), w)
    assert not torch.allclose(model.log_conditional(rep, w)[0], other[-1])


def test_annot_mix_mixed_pair_loss_at_the_ends_is_the_plain_loss():
    """Mixup weight 1 (0) gives the loss of the first (second) triples."""
    model = make_model("annot-mix").eval()
    logits, rep, workers, labels = batch()
    observed = labels >= 0
    rows = observed.nonzero(as_tuple=True)[0]
    w, y = workers[observed], labels[observed]
    plain = model.loss(logits, rep, workers, labels)
    perm = torch.randperm(len(w))
    ones = torch.ones(len(w))
    first = model.mixed_pair_loss(
        logits[rows], rep[rows], (w, w[perm]), (y, y[perm]), ones
    )
    second = model.mixed_pair_loss(
        logits[rows], rep[rows], (w[perm], w), (y[perm], y), 1 - ones
    )
    np.testing.assert_allclose(first.item(), plain.item(), rtol=1e-5)
    np.testing.assert_allclose(second.item(), plain.item(), rtol=1e-5)


def test_pair_mixup_runs_the_network_on_one_mixed_item_per_label():
    from skcrowd.nn import MLP, CrowdNetModule
    from skcrowd.nn._modules import PAIR_MIXUP

    backbone = MLP(n_features=5, hidden_units=(REP,))
    seen = []
    backbone.register_forward_hook(lambda m, args, out: seen.append(args[0].shape))
    net = CrowdNetModule(
        backbone, REP, K, make_model("annot-mix"), mixup_alpha=1.0
    ).train()
    X = torch.randn(4, 5)
    output = net(X)
    assert output[2] is PAIR_MIXUP and not seen  # nothing run yet
    _, _, workers, labels = batch()
    target = torch.cat([workers, labels], dim=1)
    loss = net.loss(output, target)
    assert seen == [torch.Size([int((labels >= 0).sum()), 5])]
    loss.backward()
    assert torch.isfinite(loss) and backbone.layers[0].weight.grad.abs().sum() > 0
    # a batch without labels teaches nothing
    empty = net.loss(net(X), torch.full((4, 6), -1))
    assert empty.item() == 0.0
    empty.backward()
    # in evaluation there is no mixup: the usual (logits, representation)
    logits, rep = net.eval()(X)
    assert logits.shape == (4, K) and rep.shape == (4, REP)


def test_annot_mix_dawid_skene_start_samples_the_labelled_pairs_workers():
    # the start is fitted on the workers of the labelled pairs: a worker
    # without labels keeps its embedding; without ``worker`` all are fitted
    target = torch.full((N_WORKERS, K, K), 0.1) + 0.7 * torch.eye(K)
    model = make_model("annot-mix")
    before = model.worker_embedding.weight.detach().clone()
    assert model.initialize_confusion(target, worker=np.array([0, 0, 1, 1, 0]))
    moved = (model.worker_embedding.weight != before).any(dim=1)
    assert moved.tolist() == [True, True, False, False, False]

    model = make_model("annot-mix")
    before = model.worker_embedding.weight.detach().clone()
    assert model.initialize_confusion(target)
    assert (model.worker_embedding.weight != before).any(dim=1).all()


@pytest.mark.parametrize("name", CROWD_MODEL_NAMES)
def test_one_class_gives_finite_distributions(name):
    # a crowd with one observed class: the diagonal logits of the start
    # (log(K - 1) = log 0) were -inf, and the outputs of crowdlayer-vw(+b),
    # instance and annot-mix NaN
    model = CROWD_MODELS[name](1, 2, REP, reg=0.01)
    model.initialize_from_crowd(np.array([0, 1]), np.array([0, 1]), np.zeros(2, int), 2)
    model.initialize_confusion(torch.ones(2, 1, 1), worker=np.array([0, 1]))
    logits, rep = torch.zeros(2, 1), torch.randn(2, REP)
    workers, labels = torch.tensor([[0], [1]]), torch.tensor([[0], [0]])
    kwargs = {"index": torch.arange(2)} if model.uses_item_index else {}
    model.eval()
    assert torch.isfinite(model.loss(logits, rep, workers, labels, **kwargs))
    ann = model.log_annotation_proba(logits, rep, workers)
    np.testing.assert_allclose(ann.detach(), 0.0, atol=1e-6)
    np.testing.assert_allclose(model.mean_confusion(rep).detach(), 1.0, atol=1e-6)
