"""Checkpoints of a neural estimator's training, written atomically.

:class:`TrainingCheckpoint` is a skorch callback: give it to a neural
estimator (``callbacks=[("checkpoint", TrainingCheckpoint("run/"))]``) and
every ``every`` epochs it saves, with skorch's ``save_params``, the module's
parameters, the optimizer's state and the history, plus the torch random
number generator's state and the seed, so that
``estimator.resume(X, y, checkpoint="run/")`` continues the run exactly
where it stopped: a run killed at epoch ``e`` and resumed reaches the model
of an uninterrupted run with the same ``random_state``.

Each save is a new directory ``epoch-NNNNNN`` written under a temporary
name and renamed into place once complete, so a run killed while saving
leaves the previous checkpoint intact; older checkpoints beyond ``keep``
are then removed. Nothing is unpickled on loading: the tensors are read by
``torch.load(weights_only=True)`` and the rest is JSON.

Torch is imported lazily.

Examples
--------
>>> import shutil, tempfile
>>> from skorch.callbacks import Callback
>>> from skcrowd.classification import CrowdClassifier
>>> from skcrowd.datasets import make_crowd_classification
>>> from skcrowd.nn import TrainingCheckpoint
>>> class Crash(Callback):  # a run that dies after epoch 3
...     def on_epoch_begin(self, net, **kwargs):
...         if len(net.history) == 4:
...             raise RuntimeError("power cut")
>>> X, Y, _ = make_crowd_classification(n_samples=60, random_state=0)
>>> run = tempfile.mkdtemp()
>>> clf = CrowdClassifier(max_epochs=6, random_state=0,
...                       callbacks=[Crash(), TrainingCheckpoint(run)])
>>> clf.fit(X, Y)
Traceback (most recent call last):
...
RuntimeError: power cut
>>> resumed = CrowdClassifier(max_epochs=6, random_state=0).resume(
...     X, Y, checkpoint=run)
>>> full = CrowdClassifier(max_epochs=6, random_state=0).fit(X, Y)
>>> bool((resumed.predict_proba(X) == full.predict_proba(X)).all())
True
>>> shutil.rmtree(run)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile

__all__ = ["TrainingCheckpoint", "load_checkpoint"]  # noqa: F822 (lazy)

FORMAT = "skcrowd-training-checkpoint"
VERSION = 1
_EPOCH_DIR = re.compile(r"epoch-(\d{6,})")
_FILES = ("params.pt", "optimizer.pt", "history.json", "rng.pt", "meta.json")

_CLASS = None


def _callback_class():
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    from skorch.callbacks import Callback

    class TrainingCheckpoint(Callback):
        """Save the training state every ``every`` epochs, for :meth:`resume`.

        Parameters
        ----------
        dirname : str or path
            Directory of the checkpoints (created if needed). A fresh
            ``fit`` removes the checkpoints of an earlier run found there
            (only the ``epoch-NNNNNN`` directories this callback writes);
            a ``resume`` keeps them.
        every : int, default=1
            Save after every ``every``-th epoch.
        keep : int, default=1
            Number of most recent checkpoints kept.

        Notes
        -----
        Put it after any callback that draws random numbers at the end of
        an epoch, so that the saved RNG state is the one the next epoch
        starts from (skcrowd's own callbacks draw none).

        Examples
        --------
        >>> import tempfile
        >>> from skcrowd.classification import CrowdClassifier
        >>> from skcrowd.datasets import make_crowd_classification
        >>> from skcrowd.nn import TrainingCheckpoint
        >>> X, Y, _ = make_crowd_classification(n_samples=60, random_state=0)
        >>> run = tempfile.mkdtemp()
        >>> cp = TrainingCheckpoint(run)
        >>> clf = CrowdClassifier(max_epochs=4, random_state=0,
        ...                       callbacks=[("checkpoint", cp)]).fit(X, Y)
        >>> resumed = CrowdClassifier(max_epochs=6, random_state=0).resume(
        ...     X, Y, checkpoint=run)
        >>> len(resumed.history_)
        6
        >>> import shutil; shutil.rmtree(run)
        """

        def __init__(self, dirname, every=1, keep=1):
            self.dirname = dirname
            self.every = every
            self.keep = keep

        def initialize(self):
            if int(self.every) < 1 or int(self.keep) < 1:
                raise ValueError(
                    "TrainingCheckpoint needs every >= 1 and keep >= 1; got "
                    f"every={self.every}, keep={self.keep}."
                )
            return self

        def on_train_begin(self, net, **kwargs):
            os.makedirs(self.dirname, exist_ok=True)
            if len(net.history) == 0:  # a fresh fit: forget an earlier run
                for _, path in _complete_checkpoints(self.dirname):
                    shutil.rmtree(path, ignore_errors=True)

        def on_epoch_end(self, net, **kwargs):
            epoch = len(net.history)
            if epoch % int(self.every) == 0:
                save_checkpoint(net, self.dirname, keep=int(self.keep))

    TrainingCheckpoint.__module__ = __name__
    TrainingCheckpoint.__qualname__ = "TrainingCheckpoint"
    _CLASS = TrainingCheckpoint
    return _CLASS


def __getattr__(name):  # lazy: importing this module does not import torch
    if name == "TrainingCheckpoint":
        return _callback_class()
    raise AttributeError(name)


def _complete_checkpoints(dirname):
    """``(epoch, path)`` of the complete checkpoints in ``dirname``, oldest first."""
    found = []
    try:
        names = os.listdir(dirname)
    except OSError:
        return found
    for name in names:
        match = _EPOCH_DIR.fullmatch(name)
        path = os.path.join(dirname, name)
        if match and os.path.isfile(os.path.join(path, "meta.json")):
            found.append((int(match.group(1)), path))
    return sorted(found)


def _fsync(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_checkpoint(net, dirname, keep=1):
    """Write the training state of ``net`` as ``dirname/epoch-NNNNNN``, atomically."""
    import torch

    from ._net import get_rng_state

    epoch = len(net.history)
    os.makedirs(dirname, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=dirname, prefix=f".epoch-{epoch:06d}-", suffix=".tmp")
    try:
        net.save_params(
            f_params=os.path.join(tmp, "params.pt"),
            f_optimizer=os.path.join(tmp, "optimizer.pt"),
            f_history=os.path.join(tmp, "history.json"),
        )
        devices = []
        if str(net.device).startswith("cuda") and torch.cuda.is_available():
            devices = list(range(torch.cuda.device_count()))
        rng = get_rng_state(devices)
        torch.save(
            {
                "cpu": torch.from_numpy(rng["cpu"]),
                "cuda": [torch.from_numpy(s) for s in rng["cuda"]],
            },
            os.path.join(tmp, "rng.pt"),
        )
        seed = getattr(net, "skcrowd_seed_", None)
        module_class = type(net.module_)
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "epoch": epoch,
            "seed": None if seed is None else int(seed),
            "module": f"{module_class.__module__}.{module_class.__qualname__}",
        }
        with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f)
        for name in _FILES:
            _fsync(os.path.join(tmp, name))
        final = os.path.join(dirname, f"epoch-{epoch:06d}")
        if os.path.exists(final):  # the same epoch again (an earlier run)
            trash = tempfile.mkdtemp(dir=dirname, prefix=".old-", suffix=".tmp")
            os.replace(final, os.path.join(trash, "old"))
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, final)
        _fsync(dirname)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for _, path in _complete_checkpoints(dirname)[:-keep]:
        shutil.rmtree(path, ignore_errors=True)
    return final


def load_checkpoint(checkpoint):
    """The training state of the last complete checkpoint in a directory.

    Parameters
    ----------
    checkpoint : str, path or TrainingCheckpoint
        The checkpoint directory (or the callback that wrote it).

    Returns
    -------
    state : dict
        ``seed``, ``epoch``, ``rng`` (numpy arrays), ``module_state`` and
        ``optimizer_state`` (on the CPU) and ``history`` (a list).

    Raises
    ------
    ValueError
        If the directory holds no complete checkpoint, or not one of this
        format.
    """
    import numpy as np
    import torch

    dirname = getattr(checkpoint, "dirname", checkpoint)
    found = _complete_checkpoints(dirname)
    if not found:
        raise ValueError(
            f"No complete training checkpoint in {os.fspath(dirname)!r} (expected "
            "epoch-NNNNNN directories written by skcrowd.nn.TrainingCheckpoint)."
        )
    _, path = found[-1]
    try:
        with open(os.path.join(path, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as exc:
        raise ValueError(f"Unreadable checkpoint {path!r}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a skcrowd training checkpoint.")
    if meta.get("version", 0) > VERSION:
        raise ValueError(
            f"{path!r} was written by a newer skcrowd (checkpoint version "
            f"{meta['version']}); upgrade skcrowd to resume from it."
        )
    if meta.get("seed") is None:
        raise ValueError(
            f"{path!r} has no seed: it was not written during a skcrowd "
            "estimator's fit, so it cannot be resumed exactly."
        )

    def read(name):
        return torch.load(
            os.path.join(path, name), map_location="cpu", weights_only=True
        )

    from skorch.history import History

    rng = read("rng.pt")
    return {
        "seed": meta["seed"],
        "epoch": meta["epoch"],
        "rng": {
            "cpu": np.asarray(rng["cpu"]),
            "cuda": [np.asarray(s) for s in rng.get("cuda", [])],
        },
        "module_state": read("params.pt"),
        "optimizer_state": read("optimizer.pt"),
        "history": list(History.from_file(os.path.join(path, "history.json"))),
    }
