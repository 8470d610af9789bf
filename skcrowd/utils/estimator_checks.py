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

__all__ = [
    "labelled_instances",
    "with_settings",
    "all_estimators",
    "construct_instance",
    "construct_instances",
    "expected_failed_checks",
]

#: Subpackages whose ``__all__`` lists public estimators.
_PUBLIC_MODULES = (
    "skcrowd.aggregation",
    "skcrowd.classification",
    "skcrowd.embedding",
    "skcrowd.multilabel",
    "skcrowd.rationale",
)

#: Constructor parameters for the common tests: seeded, and small enough
#: for the checks to run fast.
INIT_PARAMS = {
    "MajorityVote": {"random_state": 0},
    "Wawa": {"random_state": 0},
    "ZeroBasedSkill": {"random_state": 0},
    "IWMV": {"random_state": 0},
    "MACE": {"random_state": 0},
    # small and fast, yet > 0.83 accuracy on the checks' easy blobs
    # (check_classifiers_train); the defaults (100 epochs of a 100-unit MLP)
    # would make the checks take minutes per crowd model (DESIGN.md §3.11)
    "CrowdClassifier": {
        "hidden_units": (16,),
        "lr": 0.01,
        "max_epochs": 10,
        "batch_size": 32,
        "random_state": 0,
    },
    # CrowdClassifier's small settings; fitted without rationales by the
    # checks (the rationale head is then absent, the decoder trains)
    "RationaleCoLearner": {
        "hidden_units": (16,),
        "lr": 0.01,
        "max_epochs": 10,
        "batch_size": 32,
        "random_state": 0,
    },
    "MultiviewTripletEmbedder": {
        "max_epochs": 2,
        "hidden_units": (8,),
        "random_state": 0,
    },
    # small nets, no validation split (the checks' datasets have 10-30 rows)
    "BBSNClassifier": {
        "hidden_units": (16,),
        "feature_dim": 16,
        "lr": 0.01,
        "max_epochs": 10,
        "batch_size": 32,
        "threshold": 0.5,
        "model_selection": "last",
        "validation_fraction": None,
        "random_state": 0,
    },
    "MultiLabelNetClassifier": {
        "hidden_units": (16,),
        "lr": 0.01,
        "max_epochs": 10,
        "batch_size": 32,
        "threshold": 0.5,
        "model_selection": "last",
        "validation_fraction": None,
        "random_state": 0,
    },
    "TSTE": {"max_iter": 20, "random_state": 0},
    "STE": {"max_iter": 20, "random_state": 0},
    "MVTE": {"max_iter": 3, "inner_iter": 5, "random_state": 0},
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

# The triplet estimators (skcrowd.embedding) learn from answered triplets: X is
# a TripletData or an integer array of triplet rows (n, 3), and a float feature
# matrix is rejected with a ValueError. These checks fit on random float
# matrices of any width, so they fail at fit; the properties they test (pickle,
# idempotence, subset/order invariance, inputs and params untouched, ...) are
# tested on triplet data in skcrowd/embedding/tests/test_common_triplets.py.
_TRIPLET_FIT_ON_FLOATS = (
    "the check fits on a random float feature matrix, but X holds triplets of "
    "integer object indices (a float matrix is rejected with a ValueError); the "
    "property is tested on triplet data in embedding/tests/test_common_triplets.py"
)
_TRIPLET_FAILURES = {
    check: _TRIPLET_FIT_ON_FLOATS
    for check in (
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_nan_inf",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_readonly_memmap_input",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_n_iter",
    )
}
_TRIPLET_FAILURES.update(
    {
        "check_fit2d_1sample": (
            "a (1, 10) float matrix is rejected because rows must be triplets of 3 "
            "indices, not because of its single sample, so the error does not "
            "mention '1 sample'"
        ),
        "check_fit2d_1feature": (
            "a (10, 1) float matrix is rejected because rows must be triplets of 3 "
            "indices, so the error does not mention '1 feature(s)'"
        ),
        "check_positive_only_tag_during_fit": (
            "negative floats are rejected because X holds object indices (the "
            "positive-only tag describes features, and there are none in X)"
        ),
        "check_transformer_preserve_dtypes": (
            "transform takes objects, not the fitted X (triplets), so there is no "
            "fit_transform, which the check calls"
        ),
    }
)

EXPECTED_FAILED_CHECKS = {
    "CrowdClassifier": _CROWD_CLASSIFIER_FAILURES,
    "RationaleCoLearner": _CROWD_CLASSIFIER_FAILURES,
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
    "MultiviewTripletEmbedder": {
        k: v for k, v in _TRIPLET_FAILURES.items() if k != "check_transformer_n_iter"
    },
    "TSTE": _TRIPLET_FAILURES,
    "STE": _TRIPLET_FAILURES,
    "MVTE": _TRIPLET_FAILURES,
}


#: Public estimators left out of :func:`all_estimators`, with the reason. Their
#: scikit-learn properties are tested in their own subpackage's tests.
NOT_IN_COMMON_TESTS = {
    "MultiLabelAggregator": (
        "fit takes a 3-D crowd (n_samples, n_workers, n_labels) or a list of "
        "per-label crowds, so its tags say two_d_array=False and "
        "check_estimator yields no check at all; the family-based common tests "
        "(robustness, persistence) fit 2-D crowds. The applicable common "
        "checks, adapted to 3-D crowds, run in "
        "aggregation/tests/test_multilabel_common.py"
    ),
    "MultiLabelDawidSkene": (
        "fit takes a 3-D crowd (n_samples, n_workers, n_labels) or a list of "
        "per-label crowds (two_d_array=False: check_estimator yields no "
        "check); the applicable common checks, adapted to 3-D crowds, run in "
        "aggregation/tests/test_multilabel_common.py"
    ),
}


def all_estimators():
    """Public skcrowd estimator classes, as ``(name, class)`` pairs, sorted.

    The estimators of :data:`NOT_IN_COMMON_TESTS` are left out.

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
                and name not in NOT_IN_COMMON_TESTS
            ):
                found[name] = obj
    return sorted(found.items())


def construct_instance(cls):
    """An instance of ``cls`` with the common-test parameters.

    The parameters are those of :data:`INIT_PARAMS` (seeded, and small
    enough for scikit-learn's checks to run fast); the defaults for an
    estimator class ``cls`` not listed there.

    Returns
    -------
    estimator : object
        An unfitted instance of ``cls``.

    Examples
    --------
    >>> from skcrowd.aggregation import DawidSkene, MajorityVote
    >>> from skcrowd.utils.estimator_checks import construct_instance
    >>> construct_instance(MajorityVote)
    MajorityVote(random_state=0)
    >>> construct_instance(DawidSkene)
    DawidSkene()
    """
    return cls(**INIT_PARAMS.get(cls.__name__, {}))


#: Estimators checked once per value of a parameter: every crowd model of
#: ``CrowdClassifier`` is its own estimator for the common tests.
PER_VALUE_PARAMS = {
    "CrowdClassifier": ("crowd_model", "skcrowd.classification", "CROWD_MODEL_NAMES"),
}


def construct_instances(cls):
    """The instances of ``cls`` the common tests check.

    One instance with the common-test parameters, or, for the estimators of
    :data:`PER_VALUE_PARAMS`, one per value of the listed parameter (one
    ``CrowdClassifier`` per crowd model).

    Returns
    -------
    estimators : list of object
        Unfitted instances of ``cls``.

    Examples
    --------
    >>> from skcrowd.classification import CrowdClassifier
    >>> from skcrowd.utils.estimator_checks import construct_instances
    >>> [est.crowd_model for est in construct_instances(CrowdClassifier)][:2]
    ['crowdlayer-mw', 'crowdlayer-vw']
    """
    params = INIT_PARAMS.get(cls.__name__, {})
    if cls.__name__ not in PER_VALUE_PARAMS:
        return [cls(**params)]
    name, module_name, values_name = PER_VALUE_PARAMS[cls.__name__]
    values = getattr(importlib.import_module(module_name), values_name)
    return [cls(**params, **{name: value}) for value in values]


def expected_failed_checks(estimator):
    """The checks ``estimator`` is expected to fail, with their reasons.

    For ``expected_failed_checks`` of scikit-learn's
    :func:`~sklearn.utils.estimator_checks.parametrize_with_checks` and
    ``check_estimator``: the checks that cannot pass by design, from
    :data:`EXPECTED_FAILED_CHECKS` (every aggregator not listed there gets
    the aggregators' common list).

    Parameters
    ----------
    estimator : object
        An estimator instance.

    Returns
    -------
    checks : dict of str to str
        The names of the expected failing checks, each with why it fails;
        empty when every check must pass.

    Examples
    --------
    >>> from skcrowd.aggregation import DawidSkene
    >>> from skcrowd.utils.estimator_checks import expected_failed_checks
    >>> sorted(expected_failed_checks(DawidSkene()))
    ['check_estimator_sparse_array', 'check_estimator_sparse_matrix', \
'check_positive_only_tag_during_fit']
    >>> print(expected_failed_checks(DawidSkene())["check_estimator_sparse_array"])
    sparse crowds are supported, but the check expects the 4 classes of its y; \
an aggregator's classes are the labels in the crowd it aggregates (X)
    """
    from ..aggregation import BaseAggregator

    name = type(estimator).__name__
    if name in EXPECTED_FAILED_CHECKS:
        return EXPECTED_FAILED_CHECKS[name]
    if isinstance(estimator, BaseAggregator):
        return _AGGREGATOR_FAILURES
    return {}


#: parameters that bound the work of a fit: lowered, never raised
_BOUNDS = ("max_epochs", "max_iter", "inner_iter")


def with_settings(estimator, settings, **params):
    """``estimator`` with those of ``settings`` it has, then ``params``, set.

    Settings that bound the work of a fit (``max_epochs``, ``max_iter``,
    ``inner_iter``) never raise the estimator's own value. Used by the tests
    to run every estimator with small, fast settings.

    Parameters
    ----------
    estimator : estimator
        Modified in place by ``set_params``.
    settings : dict
        Candidate parameter values; those the estimator lacks are ignored.
    **params : dict
        Values set last, whatever ``settings`` says.

    Returns
    -------
    estimator : estimator

    Examples
    --------
    >>> from skcrowd.aggregation import DawidSkene
    >>> from skcrowd.utils.estimator_checks import with_settings
    >>> with_settings(DawidSkene(max_iter=5), {"max_iter": 10, "max_epochs": 2})
    DawidSkene(max_iter=5)
    """
    own = estimator.get_params()
    small = {}
    for key, value in settings.items():
        if key not in own:
            continue
        if key in _BOUNDS and own[key] is not None:
            value = min(value, own[key])
        small[key] = value
    return estimator.set_params(**{**small, **params})


def labelled_instances(settings):
    """``(id, unfitted instance)`` for each estimator and each per-value variant.

    Parameters
    ----------
    settings : dict
        Passed to :func:`with_settings` for every instance.

    Returns
    -------
    instances : list of (str, estimator)

    Examples
    --------
    >>> from skcrowd.utils.estimator_checks import labelled_instances
    >>> ids = [name for name, _ in labelled_instances({"max_epochs": 1})]
    >>> "DawidSkene" in ids and "CrowdClassifier-crowdlayer-mw" in ids
    True
    """
    found = []
    for name, cls in all_estimators():
        param = PER_VALUE_PARAMS.get(name, (None,))[0]
        for est in construct_instances(cls):
            label = f"{name}-{est.get_params()[param]}" if param else name
            found.append((label, with_settings(est, settings)))
    return found
