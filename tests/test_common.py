"""scikit-learn's estimator checks on every public skcrowd estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcrowd.utils.estimator_checks import (
    all_estimators,
    construct_instance,
    expected_failed_checks,
)

ESTIMATORS = [construct_instance(cls) for _, cls in all_estimators()]


def test_registry_is_not_empty():
    names = {type(est).__name__ for est in ESTIMATORS}
    assert {"DawidSkene", "MajorityVote", "AggregatedClassifier"} <= names


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_expected_failures_have_reasons(estimator):
    for check, reason in expected_failed_checks(estimator).items():
        assert check.startswith("check_")
        assert len(reason) > 30, f"{check} needs a real reason"
