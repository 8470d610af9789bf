"""Sphinx configuration of the skcrowd documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -b html doc doc/_build/html

Warnings are errors; the gallery (``doc/examples/plot_*.py``) is executed.
Add ``-D plot_gallery=0`` to skip running the gallery while writing prose.
"""

import ast
import os
import re
import sys
from pathlib import Path

# One thread for numpy, scikit-learn and torch (set before they are loaded):
# on a busy two-core machine threads that spin on each other make the
# gallery many times slower, and the examples are small.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402

import skcrowd  # noqa: E402

matplotlib.use("Agg")  # the gallery draws off-screen

DOC = Path(__file__).resolve().parent
ROOT = DOC.parent
sys.path.insert(0, str(DOC))  # gallery_order

project = "skcrowd"
author = "skcrowd developers"
copyright = "2026, skcrowd developers"
release = skcrowd.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# -- API reference -------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "examples"]
default_role = "literal"

# -- HTML ----------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skcrowd {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
}

# No intersphinx: the build is offline and reproducible (CI has no route to
# other documentation sites); links to scikit-learn are written out in full.

# -- Gallery -------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("skcrowd",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skcrowd": None},
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "min_reported_time": 0,
    "show_memory": False,
    "show_signature": False,
    "matplotlib_animations": False,
}


# -- API reference, generated from each public module's ``__all__`` -------
#: (module, title, introduction) of the sections of api.rst, in order; a
#: public module missing here still gets a section, at the end.
API_SECTIONS = [
    (
        "skcrowd.utils",
        "the crowd data model",
        "One validator and the converters from and to crowd-kit's long table. "
        "See :ref:`crowd_data`.",
    ),
    (
        "skcrowd.aggregation",
        "truth inference",
        "Unsupervised estimators on the crowd matrix alone. See "
        ":ref:`truth_inference`.",
    ),
    (
        "skcrowd.classification",
        "classifiers trained on crowds",
        "See :ref:`learning_from_crowds`.",
    ),
    ("skcrowd.embedding", "triplet embedding", "See :ref:`embedding`."),
    (
        "skcrowd.multilabel",
        "imbalanced multi-label classification",
        "See :ref:`multilabel`.",
    ),
    (
        "skcrowd.nn",
        "neural building blocks",
        "The torch modules, crowd models and the one skorch base that the "
        "neural estimators share.",
    ),
    ("skcrowd.datasets", "simulators and bundled crowds", ""),
    ("skcrowd.metrics", "scoring against gold and against the crowd", ""),
    ("skcrowd.model_selection", "cross-validation on crowds", ""),
    (
        "skcrowd.plotting",
        "plots (the ``plot`` extra)",
        "matplotlib is imported when a plot is drawn, never on ``import skcrowd``.",
    ),
    ("skcrowd.persistence", "safe model files", ""),
    ("skcrowd.base", "mixins, for developers", ""),
    ("skcrowd.utils.estimator_checks", "common tests, for developers", ""),
]


def public_api():
    """``{module name: [public class or function names]}`` of skcrowd.

    The public modules are those whose dotted path has no component starting
    with an underscore (tests excluded); their public objects are the
    classes and functions of their ``__all__`` defined in skcrowd. An object
    exported by several modules (``skcrowd.utils`` and
    ``skcrowd.utils.validation``) is listed under the first one only.
    ``tests/test_docs.py`` checks the docstrings of the same objects.
    """
    import importlib
    import inspect
    import pkgutil

    api, seen = {}, set()
    for info in pkgutil.walk_packages(skcrowd.__path__, "skcrowd."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or "tests" in parts:
            continue
        if parts[-1] == "conftest":
            continue
        module = importlib.import_module(info.name)
        names = []
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not obj.__module__.startswith("skcrowd") or id(obj) in seen:
                continue
            seen.add(id(obj))
            names.append(name)
        if names:
            api[info.name] = names
    return api


def write_api_reference(out=DOC / "api.rst"):
    """Write api.rst: one autosummary section per public module."""
    api = public_api()
    sections = [s for s in API_SECTIONS if s[0] in api]
    known = {s[0] for s in sections}
    sections += [(m, "", "") for m in sorted(api) if m not in known]
    lines = [
        ".. _api:",
        "",
        "=============",
        "API reference",
        "=============",
        "",
        "Generated from the docstrings of every public class and function (the",
        "names in each module's ``__all__``). Each has a runnable example, run",
        "as a doctest by ``python -m pytest``, and lists the gallery examples",
        "that use it.",
        "",
    ]
    for module, title, intro in sections:
        heading = f"``{module}``" + (f": {title}" if title else "")
        lines += [heading, "=" * len(heading), "", f".. currentmodule:: {module}", ""]
        if intro:
            lines += [intro, ""]
        lines += [".. autosummary::", "   :toctree: generated/", ""]
        lines += [f"   {name}" for name in api[module]]
        lines += [""]
    text = "\n".join(lines)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")


write_api_reference()


# -- Benchmark results page ----------------------------------------------
def _module_docstring(path):
    try:
        return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError):
        return ""


def _script_for(name):
    """The script of results file ``name``: itself or the longest prefix."""
    parts = name.split("_")
    for i in range(len(parts), 1, -1):
        stem = "_".join(parts[:i])
        if (ROOT / "benchmarks" / f"{stem}.py").exists():
            return stem
    return name


def write_benchmark_results(out=DOC / "generated" / "benchmark_results.rst.inc"):
    """Write the body of benchmarks.rst from ``benchmarks/results/*.txt``.

    Each result file gets a section named after it, the docstring of the
    script that wrote it (``benchmarks/<name>.py``) and the table verbatim.
    """
    results = sorted((ROOT / "benchmarks" / "results").glob("*.txt"))
    lines = []
    if not results:
        lines += [
            "No benchmark has been run yet (``benchmarks/results`` is empty).",
            "",
        ]
    for result in results:
        name = result.stem
        title = f"``{name}``"
        lines += [title, "-" * len(title), ""]
        script = _script_for(name)
        if script == name:
            doc = _module_docstring(ROOT / "benchmarks" / f"{name}.py")
            if doc:
                lines += [*doc.splitlines(), ""]
            where = f"Script: ``benchmarks/{script}.py``."
        else:  # a variant run, e.g. bench_music_cv.txt of bench_music.py --cv
            where = f"A variant run of ``benchmarks/{script}.py``."
        lines += [
            f"{where} Last recorded run "
            f"(``benchmarks/results/{result.name}``):",
            "",
            f".. literalinclude:: /../benchmarks/results/{result.name}",
            "   :language: none",
            "",
        ]
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")


write_benchmark_results()


# -- Hooks -----------------------------------------------------------------
def skip_foreign_members(app, what, name, obj, skip, options):
    """Document only skcrowd's own members of a class.

    Inherited scikit-learn, skorch and torch methods (``get_params``, the
    ``set_*_request`` methods, ``torch.nn.Module.apply``...) are documented
    by their projects, and their docstrings link to glossaries this site
    does not have.
    """
    if what != "class":
        return None
    function = getattr(obj, "fget", obj)
    module = getattr(function, "__module__", None) or ""
    if module and not module.startswith("skcrowd"):
        return True
    return None


def join_continued_lines(app, what, name, obj, options, lines):
    """Join a docstring line ending in a backslash with the next one.

    A long parameter type may be continued on the next line with a trailing
    backslash. Python removes the backslash and the line break from a plain
    docstring, but a raw one (used for LaTeX) keeps both, and the indented
    continuation would become a block quote. Runs before numpydoc.
    """
    i = 0
    while i < len(lines) - 1:
        if lines[i].endswith("\\") and not lines[i].endswith("\\\\"):
            lines[i] = lines[i][:-1].rstrip() + " " + lines[i + 1].strip()
            del lines[i + 1]
        else:
            i += 1


_PARAM_LINE = re.compile(r"^(\s*\*{0,2}\w+ : )(.+)$")
_TRAILING_UNDERSCORE = re.compile(r"\b(\w+)_(?![\w`])")


def escape_type_references(app, what, name, obj, options, lines):
    """Keep ``n_iter_`` in a parameter type from being read as a reference.

    numpydoc writes the type of ``log_likelihood_ : ndarray of shape
    (n_iter_,)`` as reST, where a word ending in ``_`` is a hyperlink
    reference. Escape the underscore in the type part of such lines.
    """
    for i, line in enumerate(lines):
        match = _PARAM_LINE.match(line)
        if match and "``" not in match.group(2):
            lines[i] = match.group(1) + _TRAILING_UNDERSCORE.sub(
                r"\1\\_", match.group(2)
            )


def setup(app):
    app.connect("autodoc-process-docstring", join_continued_lines, priority=100)
    app.connect("autodoc-process-docstring", escape_type_references, priority=101)
    app.connect("autodoc-skip-member", skip_foreign_members)
