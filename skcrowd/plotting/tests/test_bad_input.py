"""Bad input to the plotting functions: a clear ValueError before any drawing."""

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(titles=["only one"]),
        dict(label_names=[["x", "y"]]),
        dict(palettes=[["red", "blue"]]),
    ],
    ids=["titles", "label_names", "palettes"],
)
def test_plot_view_embeddings_per_view_lists_need_one_entry_per_view(kwargs):
    import matplotlib.pyplot as plt

    from skcrowd.plotting import plot_view_embeddings

    emb = np.random.RandomState(0).normal(size=(6, 2, 2))
    # a short list was an IndexError raised while drawing the second view
    with pytest.raises(ValueError, match="one entry per view"):
        plot_view_embeddings(emb, labels=[0, 1, 0, 1, 0, 1], **kwargs)
    plt.close("all")
