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


PROBA = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
Y_TRUE = np.array([0, 1, 1])


@pytest.mark.parametrize(
    "proba, kwargs, match",
    [
        # out-of-range or NaN probabilities were binned as if they were valid
        (PROBA * 2, {}, r"in \[0, 1\]"),
        (PROBA - 0.5, {}, r"in \[0, 1\]"),
        (np.where(PROBA > 0.85, np.nan, PROBA), {}, "finite"),
        # n_bins=2.5 was silently truncated to 2 bins
        (PROBA, dict(n_bins=2.5), "n_bins must be a positive int"),
        (PROBA, dict(n_bins=True), "n_bins must be a positive int"),
    ],
    ids=["above-1", "below-0", "nan", "n_bins-float", "n_bins-bool"],
)
def test_plot_reliability_diagram_refuses_bad_proba_and_n_bins(proba, kwargs, match):
    import matplotlib.pyplot as plt

    from skcrowd.plotting import plot_reliability_diagram

    with pytest.raises(ValueError, match=match):
        plot_reliability_diagram(Y_TRUE, proba, **kwargs)
    plt.close("all")


def test_plot_reliability_diagram_integer_n_bins_still_accepted():
    import matplotlib.pyplot as plt

    from skcrowd.plotting import plot_reliability_diagram

    for n_bins in (1, np.int64(3)):
        ax = plot_reliability_diagram(Y_TRUE, PROBA, n_bins=n_bins)
        assert ax.get_legend() is not None
    plt.close("all")


@pytest.mark.parametrize("shape", [(0, 2, 2), (2, 0, 0), (0, 0)])
def test_plot_worker_confusion_refuses_empty_confusion(shape):
    import matplotlib.pyplot as plt

    from skcrowd.plotting import plot_worker_confusion

    # no worker: matplotlib's "Number of rows must be a positive integer";
    # no class: empty panels drawn without complaint
    with pytest.raises(ValueError, match="confusion is empty"):
        plot_worker_confusion(np.empty(shape))
    plt.close("all")
