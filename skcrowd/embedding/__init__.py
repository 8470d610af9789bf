"""Embeddings learned from crowdsourced triplet comparisons.

- :class:`MultiviewTripletEmbedder`: one space per view, each worker's
  preference among the views, inductive when objects have features (Lu, Li,
  Takeuchi & Kashima, WWW 2023);
- the baselines :class:`STE`, :class:`TSTE` (one map, van der Maaten &
  Weinberger 2012) and :class:`MVTE` (several maps, Amid & Ukkonen 2015);
- the data contract :class:`TripletData` (sliceable: its rows are the
  triplets, the objects travel along) and its helpers.

Importing this package does not import torch; the estimators import it when
they fit.
"""

from ._data import (
    TripletData,
    check_triplets,
    odd_one_out_to_anchor,
    train_test_split_objects,
)
from ._multiview import MultiviewTripletEmbedder
from ._mvte import MVTE
from ._ste import STE, TSTE

__all__ = [
    "MVTE",
    "STE",
    "TSTE",
    "MultiviewTripletEmbedder",
    "TripletData",
    "check_triplets",
    "odd_one_out_to_anchor",
    "train_test_split_objects",
]
