"""Registry for running scikit-learn's ``check_estimator`` on skcrowd.

``tests/test_common.py`` runs every check on every public estimator. Checks
that cannot pass by design are listed here, each with its reason, and are
run as strict expected failures: a listed check that starts passing fails
the suite, so the list stays honest.
"""

from __future__ import annotations

import importlib
import inspect

from sklearn.base import BaseEstimator

__all__ = ["all_estimators", "construct_instance", "expected_failed_checks"]

#: Subpackages whose ``__all__`` lists public estimators.
_PUBLIC_MODULES = ("skcrowd.aggregation", "skcrowd.classification")

#: Constructor parameters for the common tests: seeded, and small enough
#: for the checks to run fast.
INIT_PARAMS = {
    "MajorityVote": {"random_state": 0},
    "Wawa": {"random_state": 0},
    "ZeroBasedSkill": {"random_state": 0},
    "MACE": {"random_state": 0},
}

_AGGREGATOR_FAILURES = {
    "check_positive_only_tag_during_fit": (
        "the check subtracts the mean from categorical data, which leaves "
        "non-integral values: a crowd of such values holds no class labels, and "
        "rejecting them ('Unknown label type: continuous') is the right answer"
    ),
    "check_estimator_sparse_array": (
        "sparse crowds are supported, but the check expects the 4 classes of its "
        "y; an aggregator's classes are the labels in the crowd it aggregates (X)"
    ),
    "check_estimator_sparse_matrix": (
        "sparse crowds are supported, but the check expects the 4 classes of its "
        "y; an aggregator's classes are the labels in the crowd it aggregates (X)"
    ),
}

_RANDOM_TIES = {
    "check_methods_sample_order_invariance": (
        "ties are broken by a seeded random draw per item in row order, so a "
        "permutation of the rows draws the tie-breaks differently"
    ),
    "check_methods_subset_invariance": (
        "ties are broken by a seeded random draw per item in row order, so a "
        "subset of the rows draws the tie-breaks differently"
    ),
}

_CROWD_CLASSIFIER_FAILURES = {
    "check_supervised_y_2d": (
        "an (n, 1) y is a valid crowd of one worker, so no DataConversionWarning "
        "is raised (DESIGN.md §3.3)"
    ),
}

EXPECTED_FAILED_CHECKS = {
    "MajorityVote": {**_AGGREGATOR_FAILURES, **_RANDOM_TIES},
    "AggregatedClassifier": {
        **_CROWD_CLASSIFIER_FAILURES,
        "check_sample_weight_equivalence_on_dense_data": (
            "sample_weight weights the items for the classifier; the aggregator "
            "reads each item's crowd labels once, so repeating an item changes "
            "the estimated worker quality while weighting it does not"
        ),
        "check_sample_weight_equivalence_on_sparse_data": (
            "sample_weight weights the items for the classifier; the aggregator "
            "reads each item's crowd labels once, so repeating an item changes "
            "the estimated worker quality while weighting it does not"
        ),
    },
}


def all_estimators():
    """Public skcrowd estimator classes, as ``(name, class)`` pairs, sorted.

    Returns
    -------
    estimators : list of (str, type)

    Examples
    --------
    >>> from skcrowd.utils.estimator_checks import all_estimators
    >>> dict(all_estimators())["DawidSkene"].__name__
    'DawidSkene'
    """
    found = {}
    for module_name in _PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not name.startswith("Base")
                and not inspect.isabstract(obj)
            ):
                found[name] = obj
    return sorted(found.items())


def construct_instance(cls):
    """An instance of ``cls`` with the common-test parameters."""
    return cls(**INIT_PARAMS.get(cls.__name__, {}))


def expected_failed_checks(estimator):
    """The checks ``estimator`` is expected to fail, with their reasons."""
    from ..aggregation import BaseAggregator

    name = type(estimator).__name__
    if name in EXPECTED_FAILED_CHECKS:
        return EXPECTED_FAILED_CHECKS[name]
    if isinstance(estimator, BaseAggregator):
        return _AGGREGATOR_FAILURES
    return {}
