"""Learning from crowd class labels and crowd rationales, and explaining.

:class:`RationaleCoLearner` trains a crowd classifier (CrowdClassifier's
crowd models) jointly with a head that predicts the workers' rationales,
with shared and private encoders, a reconstruction decoder and an
orthogonality penalty, and explains each prediction by its ranked rationale
terms. :func:`check_rationales` validates rationales (per-worker 3-D masks
or per-item counts); :func:`aggregate_rationales` turns 3-D masks into the
per-item fractions the model learns (2-D, so that cross-validation can
split them). :mod:`skcrowd.rationale.text` has an optional offline sentence
encoder (TF-IDF over the rationale vocabulary is the default for text).
Torch is imported when the estimator module is.
"""

from ._colearner import RationaleCoLearner
from ._validation import aggregate_rationales, check_rationales

__all__ = ["RationaleCoLearner", "aggregate_rationales", "check_rationales"]
