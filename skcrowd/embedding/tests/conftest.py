import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The triplet tests run small models: one thread avoids oversubscription."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
