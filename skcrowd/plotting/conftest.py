"""Doctests of the plot functions: skipped without matplotlib, drawn off-screen."""

import importlib.util

import pytest

if importlib.util.find_spec("matplotlib") is None:  # the optional ``plot`` extra
    collect_ignore_glob = ["*.py"]
else:

    @pytest.fixture(autouse=True)
    def _close_figures():
        import matplotlib

        matplotlib.use("Agg")
        yield
        import matplotlib.pyplot as plt

        plt.close("all")
