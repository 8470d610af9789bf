"""scikit-learn's estimator checks on every public skcrowd estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcrowd.utils.estimator_checks import (
    all_estimators,
    construct_instances,
    expected_failed_checks,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# one instance per estimator, one per crowd model for CrowdClassifier
ESTIMATORS = [est for _, cls in all_estimators() for est in construct_instances(cls)]


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


def test_every_crowd_model_is_checked():
    from skcrowd.classification import CROWD_MODEL_NAMES
    from skcrowd.nn import CROWD_MODELS

    checked = {
        est.crowd_model for est in ESTIMATORS if type(est).__name__ == "CrowdClassifier"
    }
    assert checked == set(CROWD_MODEL_NAMES) == set(CROWD_MODELS)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=str)
def test_expected_failures_have_reasons(estimator):
    for check, reason in expected_failed_checks(estimator).items():
        assert check.startswith("check_")
        assert len(reason) > 30, f"{check} needs a real reason"
