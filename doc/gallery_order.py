"""The order of the gallery examples (sphinx-gallery's within_subsection_order).

A module, not a lambda in conf.py, so that the Sphinx configuration stays
picklable.
"""

#: example files in reading order; files not listed come after, by name
ORDER = [
    "plot_worker_confusion.py",
    "plot_worker_accuracy.py",
    "plot_reliability_diagram.py",
    "plot_learning_from_crowds.py",
    "plot_rationales.py",
    "plot_multiview_embedding.py",
    "plot_multilabel_long_tail.py",
    "plot_scaling.py",
]


class ExampleOrder:
    """Sort key of the example files: the position in ``ORDER``, then the name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        position = ORDER.index(filename) if filename in ORDER else len(ORDER)
        return (position, filename)

    def __repr__(self):
        return f"ExampleOrder({ORDER!r})"
