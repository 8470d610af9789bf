"""Bad input to the dataset generators: a clear ValueError/TypeError."""

import numpy as np
import pytest

from skcrowd.datasets import (
    make_crowd_classification,
    rationale_terms,
    simulate_crowd,
    simulate_multiview_triplets,
)


@pytest.mark.parametrize(
    "func, kwargs",
    [
        (make_crowd_classification, dict(n_samples=20, n_workers=3)),
        (simulate_crowd, dict(y_true=[0, 1, 2, 1], n_workers=3)),
    ],
)
def test_worker_profiles_as_arrays_name_the_parameter(func, kwargs):
    # confusion matrices instead of profile names: numpy's "truth value of an
    # array is ambiguous" came out of the name check
    with pytest.raises(ValueError, match="Unknown worker profile"):
        func(worker_profiles=np.full((3, 3, 3), 1 / 3), random_state=0, **kwargs)


@pytest.mark.parametrize("objects", [[0, 1, 9], [-1, 0, 1]])
def test_simulate_multiview_triplets_objects_out_of_range(objects):
    attributes = np.array([[0, 1], [1, 0], [0, 1], [1, 1], [0, 0]])
    # an index past the attributes was an IndexError; a negative one was
    # silently read from the end
    with pytest.raises(ValueError, match="objects must index"):
        simulate_multiview_triplets(
            attributes, 10, worker_views=[0, 1], objects=objects, random_state=0
        )


@pytest.mark.parametrize("text", [None, 5, ["a b"]])
def test_rationale_terms_needs_a_string(text):
    # was an AttributeError ('NoneType' object has no attribute 'split')
    with pytest.raises(TypeError, match="text must be a str"):
        rationale_terms(text)
