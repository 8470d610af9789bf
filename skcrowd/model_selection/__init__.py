"""Model selection for crowds: crowd-aware splitters and out-of-fold predictions.

scikit-learn's ``cv=5`` and ``StratifiedKFold`` do not work on a crowd label
matrix ``y`` (DESIGN §3.5): pass ``cv=CrowdStratifiedKFold(...)`` explicitly,
and use :func:`cross_val_predict_proba` instead of
``cross_val_predict(method="predict_proba")``.
"""

from ._split import CrowdStratifiedKFold
from ._validation import cross_val_predict_proba

__all__ = ["CrowdStratifiedKFold", "cross_val_predict_proba"]
