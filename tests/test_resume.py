"""Resumable training of the neural estimators (issue 8).

``fit(max_epochs=a)`` then ``set_params(max_epochs=a + b).resume(...)``
equals ``fit(max_epochs=a + b)`` with the same seed, bit for bit, and so does
a run interrupted (by an exception, Ctrl-C, or a killed process) and resumed
from its :class:`~skcrowd.nn.TrainingCheckpoint`: the module, optimizer,
history and torch RNG (shuffling, dropout) continue exactly.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from skcrowd.nn import BaseNeuralEstimator, TrainingInterruptedWarning
from skcrowd.utils.estimator_checks import (
    PER_VALUE_PARAMS,
    all_estimators,
    construct_instances,
)

torch = pytest.importorskip("torch")
from skorch.callbacks import Callback  # noqa: E402

from skcrowd import persistence  # noqa: E402
from skcrowd.nn import TrainingCheckpoint  # noqa: E402


def _neural_instances():
    """``(id, instance)``: each neural estimator, each crowd model."""
    found = []
    for name, cls in all_estimators():
        if not issubclass(cls, BaseNeuralEstimator):
            continue
        param = PER_VALUE_PARAMS.get(name, (None,))[0]
        for est in construct_instances(cls):
            label = f"{name}-{est.get_params()[param]}" if param else name
            found.append((label, est))
    return found


def _is_multilabel(cls):
    return cls.__module__.startswith("skcrowd.multilabel")


NEURAL = _neural_instances()
IDS = [n for n, _ in NEURAL]
#: the estimators whose training schedule does not depend on max_epochs (the
#: tests below that fit a, then resume to a + b epochs, or use skorch's
#: valid_loss, run on the first of them)
PLAIN = [(n, c) for n, c in NEURAL if not _is_multilabel(c)]
#: skcrowd.multilabel's schedules (BBSN's alpha and beta, the warm-up and
#: linear decay of the learning rate) span max_epochs: a fit of 4 epochs is
#: not the first 4 epochs of a 6-epoch fit, so "fit 4, resume to 6" differs
#: from "fit 6" by design; resuming an interrupted 6-epoch fit is exact
SCHEDULED = pytest.mark.xfail(
    reason="the schedules span max_epochs: fit(4 epochs) is not the start of "
    "fit(6 epochs)",
    strict=True,
)
NEURAL_FIT_THEN_RESUME = [
    pytest.param(n, c, marks=SCHEDULED, id=n) if _is_multilabel(c) else (n, c)
    for n, c in NEURAL
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make(est, **params):
    """Small, seeded, with dropout and several shuffled batches per epoch."""
    est = clone(est) if not isinstance(est, type) else est()
    own = est.get_params()
    settings = {
        "hidden_units": (8,),
        "batch_size": 16,
        "random_state": 0,
        "dropout": 0.3,
        "n_components": 2,
        "lr": 0.01,
    }
    return est.set_params(**{k: v for k, v in settings.items() if k in own}, **params)


def data_for(est):
    rng = np.random.RandomState(0)
    if _is_multilabel(est):
        X = rng.randn(70, 4)
        return X, (X[:, :3] > 0.3).astype(int)
    if est.__module__.startswith("skcrowd.embedding"):
        from skcrowd.embedding import TripletData

        rows = np.array([rng.choice(12, 3, replace=False) for _ in range(90)])
        return (TripletData(rows, rng.randn(12, 4), workers=rng.randint(0, 3, 90)),)
    truth = rng.randint(0, 3, 70)
    Y = np.where(rng.rand(70, 5) < 0.7, truth[:, None], rng.randint(0, 3, (70, 5)))
    Y = Y.astype(float)
    Y[rng.rand(70, 5) < 0.3] = np.nan
    Y[:, 0] = truth
    return rng.randn(70, 4) + truth[:, None], Y


def state_of(est):
    """The trained weights and the per-epoch training losses."""
    weights = {
        k: v.detach().cpu().clone() for k, v in est.net_.module_.state_dict().items()
    }
    losses = [row.get("train_loss") for row in est.history_]
    return weights, losses


def assert_same_model(a, b):
    wa, la = state_of(a)
    wb, lb = state_of(b)
    assert la == lb, (la, lb)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


@pytest.fixture(scope="module")
def uninterrupted():
    return {name: make(cls, max_epochs=6).fit(*data_for(cls)) for name, cls in NEURAL}


class Interrupt(Callback):
    """Raise ``exc`` when epoch ``at + 1`` begins (epoch ``at`` is complete)."""

    def __init__(self, at, exc=RuntimeError):
        self.at = at
        self.exc = exc

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.at + 1:
            raise self.exc("interrupted by the test")


@pytest.mark.parametrize(
    "name, cls", NEURAL_FIT_THEN_RESUME, ids=[n for n, _ in NEURAL]
)
def test_fit_then_resume_equals_one_fit(name, cls, uninterrupted):
    data = data_for(cls)
    est = make(cls, max_epochs=4).fit(*data)
    est.set_params(max_epochs=6).resume(*data)
    assert len(est.history_) == 6
    assert_same_model(est, uninterrupted[name])


@pytest.mark.parametrize("name, cls", NEURAL, ids=IDS)
def test_crash_then_resume_from_checkpoint(name, cls, uninterrupted, tmp_path):
    data = data_for(cls)
    checkpoint = ("checkpoint", TrainingCheckpoint(tmp_path / "run", keep=2))
    crashing = make(cls, max_epochs=6, callbacks=[Interrupt(3), checkpoint])
    with pytest.raises(RuntimeError, match="interrupted by the test"):
        crashing.fit(*data)
    assert sorted(os.listdir(tmp_path / "run")) == ["epoch-000002", "epoch-000003"]
    resumed = make(cls, max_epochs=6).resume(*data, checkpoint=tmp_path / "run")
    assert_same_model(resumed, uninterrupted[name])


def test_ctrl_c_warns_and_resumes_from_checkpoint(uninterrupted, tmp_path):
    name, cls = PLAIN[0]
    data = data_for(cls)
    callbacks = [Interrupt(2, KeyboardInterrupt), TrainingCheckpoint(tmp_path)]
    est = make(cls, max_epochs=6, callbacks=callbacks)
    with pytest.warns(TrainingInterruptedWarning, match="resume"):
        est.fit(*data)  # skorch turns Ctrl-C into a normal return
    # stopped inside epoch 3: the in-memory model is not at an epoch boundary
    with pytest.raises(ValueError, match="middle of epoch 3"):
        est.resume(*data)
    est.set_params(callbacks=None).resume(*data, checkpoint=tmp_path)
    assert_same_model(est, uninterrupted[name])


def test_resume_with_validation_split_and_the_same_checkpoint(tmp_path):
    name, cls = PLAIN[0]
    data = data_for(cls)
    params = {"validation_fraction": 0.2}
    full = make(cls, max_epochs=5, **params).fit(*data)
    cp = TrainingCheckpoint(tmp_path)
    with pytest.raises(RuntimeError):
        make(cls, max_epochs=5, callbacks=[Interrupt(2), cp], **params).fit(*data)
    # resuming with the checkpoint callback still in place keeps saving
    resumed = make(cls, max_epochs=5, callbacks=[cp], **params)
    resumed.resume(*data, checkpoint=cp)
    assert_same_model(resumed, full)
    assert [h["valid_loss"] for h in resumed.history_] == [
        h["valid_loss"] for h in full.history_
    ]
    assert os.listdir(tmp_path) == ["epoch-000005"]


def test_user_lr_scheduler_continues_after_a_crash(tmp_path):
    """A skorch ``LRScheduler`` resumes at its epoch, not from its start."""
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import StepLR

    name, cls = PLAIN[0]
    data = data_for(cls)

    def run(*callbacks):
        scheduler = ("lr", LRScheduler(StepLR, step_size=2, gamma=0.5))
        est = make(cls, max_epochs=6, optimizer=torch.optim.SGD)
        return est.set_params(lr=0.1, callbacks=[scheduler, *callbacks])

    full = run().fit(*data)
    with pytest.raises(RuntimeError):
        run(Interrupt(3), TrainingCheckpoint(tmp_path)).fit(*data)
    resumed = run().resume(*data, checkpoint=tmp_path)
    lr = [g["lr"] for g in resumed.net_.optimizer_.param_groups]
    assert lr == [0.1 * 0.5**3] * len(lr)  # 6 steps of step_size 2
    assert lr == [g["lr"] for g in full.net_.optimizer_.param_groups]
    assert_same_model(resumed, full)


@pytest.mark.parametrize("via", ["pickle", "safe"])
def test_resume_after_reloading(via, uninterrupted, tmp_path):
    name, cls = PLAIN[0]
    data = data_for(cls)
    est = make(cls, max_epochs=3).fit(*data)
    if via == "pickle":
        est = pickle.loads(pickle.dumps(est))
    else:
        persistence.dump(est, tmp_path / "m.skcrowd")
        est = persistence.load(tmp_path / "m.skcrowd")
    est.set_params(max_epochs=6).resume(*data)
    assert_same_model(est, uninterrupted[name])


def test_resume_errors_are_clear(tmp_path):
    name, cls = PLAIN[0]
    data = data_for(cls)
    with pytest.raises(ValueError, match="no training to resume"):
        make(cls).resume(*data)
    with pytest.raises(ValueError, match="No complete training checkpoint"):
        make(cls).resume(*data, checkpoint=tmp_path)
    est = make(cls, max_epochs=4).fit(*data)
    with pytest.raises(ValueError, match="more than max_epochs=2"):
        est.set_params(max_epochs=2).resume(*data)
    with pytest.raises(ValueError, match="early_stopping"):
        make(cls, early_stopping=True, validation_fraction=0.2).resume(*data)
    X, Y = data
    with pytest.raises(ValueError, match="does not fit the network"):
        est.set_params(max_epochs=6).resume(np.hstack([X, X]), Y)
    # resuming nothing left to do keeps the model
    before = state_of(est)
    est.set_params(max_epochs=4).resume(X, Y)
    after = state_of(est)
    assert before[1] == after[1]


def test_checkpoint_save_is_atomic(tmp_path, monkeypatch):
    name, cls = PLAIN[0]
    data = data_for(cls)
    real_save = torch.save

    class Fail(Callback):
        def on_epoch_begin(self, net, **kwargs):
            if len(net.history) == 3:  # break the save at the end of epoch 3
                monkeypatch.setattr(torch, "save", failing)

    def failing(obj, f, *args, **kwargs):
        if str(f).endswith("rng.pt"):
            raise OSError("disk full")
        return real_save(obj, f, *args, **kwargs)

    est = make(cls, max_epochs=5, callbacks=[Fail(), TrainingCheckpoint(tmp_path)])
    with pytest.raises(OSError, match="disk full"):
        est.fit(*data)
    monkeypatch.undo()
    # the epoch-2 checkpoint is intact and nothing half-written is left
    assert os.listdir(tmp_path) == ["epoch-000002"]
    assert sorted(os.listdir(tmp_path / "epoch-000002")) == sorted(
        ["params.pt", "optimizer.pt", "history.json", "rng.pt", "meta.json"]
    )
    full = make(cls, max_epochs=5).fit(*data)
    resumed = make(cls, max_epochs=5).resume(*data, checkpoint=tmp_path)
    assert_same_model(resumed, full)


@pytest.mark.slow
def test_killed_process_resumes_from_checkpoint(tmp_path):
    """SIGKILL a training process, resume in this one: the uninterrupted model."""
    from skcrowd.classification import CrowdClassifier

    data = data_for(CrowdClassifier)
    np.save(tmp_path / "X.npy", data[0])
    np.save(tmp_path / "Y.npy", data[1])
    run = tmp_path / "run"
    script = textwrap.dedent(f"""
        import time, numpy as np, torch
        from skorch.callbacks import Callback
        from skcrowd.classification import CrowdClassifier
        from skcrowd.nn import TrainingCheckpoint
        torch.set_num_threads(1)

        class Slow(Callback):
            def on_epoch_end(self, net, **kwargs):
                time.sleep(0.5)

        X = np.load({str(tmp_path / "X.npy")!r})
        Y = np.load({str(tmp_path / "Y.npy")!r})
        CrowdClassifier(hidden_units=(8,), batch_size=16, dropout=0.3, lr=0.01,
                        random_state=0, max_epochs=40,
                        callbacks=[Slow(), TrainingCheckpoint({str(run)!r})]).fit(X, Y)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if os.path.isdir(run) and any(
                n.startswith("epoch-000003") for n in os.listdir(run)
            ):
                break
            time.sleep(0.05)
        else:
            pytest.fail("no checkpoint within 120 s")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        resumed = make(CrowdClassifier, max_epochs=8).resume(*data, checkpoint=run)
    full = make(CrowdClassifier, max_epochs=8).fit(*data)
    assert_same_model(resumed, full)
