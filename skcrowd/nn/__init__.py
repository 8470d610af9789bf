"""Neural building blocks: the skorch composition base, crowd targets, and
(lazily, since they import torch) the torch modules and crowd models.
"""

import importlib

from ._net import BaseNeuralEstimator, TrainingInterruptedWarning
from ._target import padded_crowd_target

_LAZY = {
    "CROWD_MODELS": "._crowd_models",
    "BaseCrowdModel": "._crowd_models",
    "register_crowd_model": "._crowd_models",
    "MLP": "._modules",
    "CrowdNetModule": "._modules",
    "TrainingCheckpoint": "._checkpoint",
}

__all__ = [
    "BaseNeuralEstimator",
    "TrainingInterruptedWarning",
    "padded_crowd_target",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'skcrowd.nn' has no attribute {name!r}")
