"""skcrowd: learning trustworthy models from crowdsourced labels.

Every method is a scikit-learn estimator that accepts features and an
``(n_samples, n_workers)`` crowd label matrix with missing entries.
Subpackages are imported on demand so that the light paths (validation,
aggregation, the command line) never import torch.
"""

import importlib

__version__ = "0.1.0.dev0"

_SUBMODULES = [
    "aggregation",
    "base",
    "classification",
    "datasets",
    "embedding",
    "metrics",
    "model_selection",
    "multilabel",
    "nn",
    "persistence",
    "plotting",
    "rationale",
    "utils",
]

__all__ = [*_SUBMODULES, "__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"skcrowd.{name}")
    raise AttributeError(f"module 'skcrowd' has no attribute {name!r}")


def __dir__():
    return __all__
