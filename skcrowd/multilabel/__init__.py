"""Multi-label learning for long-tailed labels: BBSN and the plain nets.

- :class:`BBSNClassifier`: the balanced-branch Siamese network (Zhao, Li &
  Fukumoto, ICONIP 2022);
- :class:`MultiLabelNetClassifier`: one head trained with BCE, focal,
  class-balanced, distribution-balanced or asymmetric loss.

Both take a label matrix, soft labels, 1-D class labels or a crowd of
multi-label annotations ``(n_samples, n_workers, n_labels)``, and dense or
sparse features. Torch is imported when they are fitted, not here.
"""

from ._bbsn import BBSNClassifier
from ._net import LOSS_NAMES, MultiLabelNetClassifier

__all__ = ["BBSNClassifier", "MultiLabelNetClassifier", "LOSS_NAMES"]
