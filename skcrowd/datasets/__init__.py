"""Simulated crowds and the real crowdsourced datasets bundled with skcrowd.

``make_*`` / ``simulate_*`` functions generate crowds from known worker
models; ``load_*`` functions read the small real datasets shipped in
``skcrowd/datasets/data`` (no download at run time). Nothing here imports
torch.
"""

from ._base import load_music, load_truth_inference
from ._multilabel import (
    load_reuters21578,
    make_long_tailed_multilabel,
    simulate_multilabel_crowd,
)
from ._rationale import load_yelp_hat, make_rationale_crowd, rationale_terms
from ._simulate import make_crowd_classification, simulate_crowd
from ._triplets import (
    load_food100,
    make_multiview_triplets,
    simulate_multiview_triplets,
)

__all__ = [
    "load_food100",
    "load_music",
    "load_reuters21578",
    "load_truth_inference",
    "load_yelp_hat",
    "make_crowd_classification",
    "make_long_tailed_multilabel",
    "make_multiview_triplets",
    "make_rationale_crowd",
    "rationale_terms",
    "simulate_crowd",
    "simulate_multilabel_crowd",
    "simulate_multiview_triplets",
]
