"""Fixtures shared by the test suites of the package and of ``tests/``."""

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op torch thread for a module's tests, restored afterwards.

    Tiny nets train faster on one thread, and on a loaded machine spinning
    threads dominate. Without torch (the aggregators need none) it does
    nothing.
    """
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def client():
    """A ``distributed.Client`` on a local cluster of two single-threaded
    worker processes, for the tests that run on Dask."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        yield client
