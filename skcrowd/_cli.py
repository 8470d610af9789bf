"""The command line, ``python -m skcrowd`` (or the ``skcrowd`` script).

Only the standard library is imported at start-up; numpy, pandas and the
aggregators are imported when a command runs, and torch never is, so
``--help`` is instant and ``aggregate`` starts in well under a second.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time

__all__ = ["main"]

PROG = "skcrowd"

#: command-line name -> class name in :mod:`skcrowd.aggregation` (resolved
#: lazily, so a method that is not there gives a clean error)
METHODS = {
    "mv": "MajorityVote",
    "wawa": "Wawa",
    "zbs": "ZeroBasedSkill",
    "iwmv": "IWMV",
    "ds": "DawidSkene",
    "onecoin": "OneCoinDawidSkene",
    "glad": "GLAD",
    "mace": "MACE",
    "ibcc": "IBCC",
}

DATASETS = ("bluebirds", "dog", "rte", "temp", "product")

# a label is read as an int only when writing the int back gives the same
# text: "7" and "-3" are ints, "007", "+1" and "1.0" stay strings
_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]*")

_EXIT_OK, _EXIT_FAILED, _EXIT_USAGE = 0, 1, 2


class CLIError(Exception):
    """A user error: reported as one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors ("skcrowd: error: ...") and exit status 2."""

    def error(self, message):
        hint = f"see '{self.prog} --help'"
        self.exit(_EXIT_USAGE, f"{PROG}: error: {message} ({hint})\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _build_parser():
    from . import __version__

    parser = _Parser(
        prog=PROG,
        description="skcrowd: learning from crowdsourced labels.",
        epilog="Run 'skcrowd aggregate --help' for label aggregation.",
    )
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    agg = commands.add_parser(
        "aggregate",
        help="estimate true labels from a crowd (truth inference)",
        description=(
            "Estimate each task's true label, and each worker's reliability,\n"
            "from a long CSV of crowd answers (one row per task, worker, label).\n"
            "Without an input file, run the methods on the bundled truth-inference\n"
            "datasets and print their accuracy against the gold labels and their\n"
            "wall time."
        ),
        epilog=(
            "examples:\n"
            "  skcrowd aggregate answers.csv --method ds --output labels.csv "
            "--workers workers.csv\n"
            "  skcrowd aggregate answers.csv --gold gold.csv --method glad\n"
            "  skcrowd aggregate                      # all methods, all bundled "
            "datasets\n"
            "  skcrowd aggregate --dataset dog --method mv\n\n"
            "Results go to --output (stdout by default); messages (progress, the "
            "accuracy against --gold) go to stderr. Outputs are written only "
            "once everything succeeded, and atomically. Malformed input exits "
            "with status 2 and a one-line 'skcrowd: error:' message."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    agg.add_argument(
        "answers",
        nargs="?",
        metavar="ANSWERS.csv",
        help="long CSV of crowd answers ('-' reads stdin); omit it to run on the "
        "bundled datasets",
    )
    agg.add_argument(
        "--method",
        choices=list(METHODS),
        default=None,
        help="aggregation method: mv (majority vote), wawa, zbs (zero-based "
        "skill), iwmv (iterative weighted majority vote), ds (Dawid-Skene), "
        "onecoin (one-coin Dawid-Skene), glad, mace, "
        "ibcc. Default: ds with an input file, every available method on the "
        "bundled datasets.",
    )
    agg.add_argument(
        "-o", "--output", default=None, metavar="PATH",
        help="where to write the estimated labels as CSV (task,label,confidence); "
        "'-' or omitted: stdout. On the bundled datasets: the results table.",
    )
    agg.add_argument(
        "--workers", default=None, metavar="PATH",
        help="also write the per-worker report as CSV (worker,n_labels,"
        "agreement,accuracy); '-' for stdout",
    )
    agg.add_argument(
        "--gold", default=None, metavar="GOLD.csv",
        help="CSV of known true labels (task and label columns, named as in the "
        "answers); prints the accuracy of the estimated labels against them",
    )
    agg.add_argument("--task-column", default="task", metavar="NAME",
                     help="name of the task column (default: task)")
    agg.add_argument("--worker-column", default="worker", metavar="NAME",
                     help="name of the worker column (default: worker)")
    agg.add_argument("--label-column", default="label", metavar="NAME",
                     help="name of the label column (default: label)")
    agg.add_argument(
        "--duplicates", choices=["raise", "first", "last"], default="raise",
        help="a worker who answered a task more than once: fail (default), or "
        "keep their first or last answer",
    )
    agg.add_argument("--sep", default=",",
                     help="field separator of the CSV files (default: ','; "
                     "'\\t' for tabs)")
    agg.add_argument("--max-iter", type=_positive_int, default=None, metavar="N",
                     help="maximum number of iterations of iterative methods")
    agg.add_argument("--seed", type=int, default=0,
                     help="random seed (tie-breaking, initialisation); default 0")
    agg.add_argument(
        "--dataset", choices=[*DATASETS, "all"], default="all",
        help="bundled dataset to run on when no input file is given "
        "(default: all)",
    )
    agg.add_argument("-q", "--quiet", action="store_true",
                     help="no progress messages on stderr")
    return parser


# -- progress ---------------------------------------------------------------
class _Progress:
    """Progress lines on stderr, shown only once a run has taken over 1 s."""

    delay = 1.0

    def __init__(self, enabled, stream=None):
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._dirty = False

    def __call__(self, message):
        if not self.enabled or time.perf_counter() - self.start < self.delay:
            return
        if self._tty:
            self.stream.write(f"\r\033[K{PROG}: {message}")
            self._dirty = True
        else:
            self.stream.write(f"{PROG}: {message}\n")
        self.stream.flush()

    def done(self):
        if self._dirty:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._dirty = False


def _note(message):
    sys.stderr.write(f"{PROG}: {message}\n")


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


# -- reading ----------------------------------------------------------------
def _separator(sep):
    return {"\\t": "\t", "tab": "\t"}.get(sep, sep)


def _read_table(path, sep, columns, what):
    """Read a CSV as strings; only empty cells are missing."""
    import pandas as pd

    source = sys.stdin if path == "-" else path
    name = "<stdin>" if path == "-" else path
    try:
        df = pd.read_csv(
            source,
            sep=_separator(sep),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
            encoding="utf-8-sig",  # a byte-order mark is not part of the header
            engine="python" if len(_separator(sep)) > 1 else "c",
        )
    except pd.errors.EmptyDataError:
        raise CLIError(f"{what} file {name!r} is empty (no header row)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CLIError(
            f"cannot parse {what} file {name!r} as CSV: {_one_line(exc)}"
        ) from None
    except OSError as exc:
        reason = exc.strerror or _one_line(exc)
        raise CLIError(f"cannot read {what} file {name!r}: {reason}") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CLIError(
            f"{what} file {name!r} has no column {missing[0]!r} (columns: "
            f"{', '.join(map(repr, df.columns))}); name it with "
            f"--{_option_for(missing[0], columns)}"
        )
    if len(df) == 0:
        raise CLIError(f"{what} file {name!r} has a header but no rows")
    return df


def _option_for(column, columns):
    options = ["task-column", "worker-column", "label-column"]
    if len(columns) == 2:  # gold: task, label
        options = ["task-column", "label-column"]
    return options[list(columns).index(column)]


def _convert_labels(values):
    """Labels read as text -> ints when every one is an int, else strings.

    Raises ValueError for a continuous label column (numbers that are not
    all integral).
    """
    import numpy as np
    import pandas as pd

    values = np.asarray(values, dtype=object)
    present = ~pd.isna(values)
    text = values[present]
    if len(text) and pd.Series(text).str.fullmatch(_CANONICAL_INT.pattern).all():
        out = values.copy()
        out[present] = [int(t) for t in text]
        return out
    numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(float)
    if len(text) and not np.isnan(numbers).any():
        finite = np.isfinite(numbers)
        if not finite.all() or np.any(numbers != np.round(numbers)):
            example = text[~finite | (numbers != np.round(numbers))][0]
            raise ValueError(
                "the label column holds continuous values (e.g. "
                f"{example!r}): crowd labels must be class labels"
            )
    return values


# -- the aggregate command --------------------------------------------------
def _resolve(method):
    try:
        import skcrowd.aggregation as aggregation
    except ImportError as exc:
        raise CLIError(f"cannot import skcrowd.aggregation: {_one_line(exc)}") from None

    class_name = METHODS[method]
    cls = getattr(aggregation, class_name, None)
    if cls is None:
        raise CLIError(
            f"method {method!r} needs skcrowd.aggregation.{class_name}, which this "
            "version of skcrowd does not have"
        )
    return cls


def _make_aggregator(method, args):
    cls = _resolve(method)
    est = cls()
    params = est.get_params()
    update = {}
    if args.max_iter is not None and "max_iter" in params:
        update["max_iter"] = args.max_iter
    if "random_state" in params:
        update["random_state"] = args.seed
    return est.set_params(**update)


def _fit_labels(est, crowd, classes):
    """Fit on a sparse crowd of codes; return the labels and their posterior."""
    import numpy as np

    est.fit(crowd)
    est_classes = np.asarray(est.classes_)
    code_pos = np.searchsorted(est_classes, est.labels_)
    confidence = np.asarray(est.proba_)[np.arange(len(code_pos)), code_pos]
    labels = np.asarray(classes)[est_classes[code_pos].astype(np.int64)]
    return labels, confidence


def _worker_table(est, workers):
    import numpy as np

    report = est.worker_report().reset_index(drop=True)
    keep = [
        c for c in report.columns
        if len(report) == 0 or np.ndim(report[c].iloc[0]) == 0
    ]
    report = report[keep]
    report.insert(0, "worker", workers)
    return report


def _order_of_appearance(column_values, ids):
    """Positions in ``ids`` of its values in order of first appearance."""
    import pandas as pd

    seen = pd.unique(pd.Series(column_values).dropna())
    return pd.Index(ids).get_indexer(seen)


def _read_gold(path, args, tasks):
    """The gold labels (as text) of the tasks of the answers, indexed by task."""
    import pandas as pd

    columns = (args.task_column, args.label_column)
    gold = _read_table(path, args.sep, columns, "gold")
    gold = gold[list(columns)].dropna()
    task = gold[args.task_column]
    if task.duplicated().any():
        dup = task[task.duplicated()].iloc[0]
        raise CLIError(f"gold file {path!r} lists task {dup!r} more than once")
    gold = gold[task.isin(pd.Index(tasks))]
    if len(gold) == 0:
        raise CLIError(
            f"no task of gold file {path!r} is among the tasks of the answers"
        )
    return pd.Series(gold[args.label_column].to_numpy(), index=gold[args.task_column])


def _check_writable(path):
    if path in (None, "-"):
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CLIError(f"cannot write {path!r}: no directory {directory!r}")
    if os.path.isdir(path):
        raise CLIError(f"cannot write {path!r}: it is a directory")


def _aggregate_file(args, progress):
    import numpy as np
    import pandas as pd

    from .utils import crowd_matrix_from_long

    method = args.method or "ds"
    est = _make_aggregator(method, args)  # fail early on an unknown method
    columns = (args.task_column, args.worker_column, args.label_column)
    if len(set(columns)) != 3:
        raise CLIError("the task, worker and label columns must be different")
    if args.output not in (None, "-") and args.output == args.workers:
        raise CLIError("--output and --workers name the same file")
    if args.output in (None, "-") and args.workers == "-":
        raise CLIError("--output and --workers cannot both go to stdout")
    _check_writable(args.output)
    _check_writable(args.workers)

    # read and check every input before the computation
    df = _read_table(args.answers, args.sep, columns, "answers")
    df = df[list(columns)].copy()
    try:
        df[args.label_column] = _convert_labels(df[args.label_column].to_numpy())
    except ValueError as exc:
        raise CLIError(f"answers file {args.answers!r}: {_one_line(exc)}") from None
    try:
        crowd, tasks, workers, classes = crowd_matrix_from_long(
            df,
            task=args.task_column,
            worker=args.worker_column,
            label=args.label_column,
            sparse=True,
            duplicates=args.duplicates,
        )
    except ValueError as exc:
        message = _one_line(exc).replace(
            "Pass duplicates='first' or 'last'", "Pass --duplicates first or last"
        )
        raise CLIError(f"answers file {args.answers!r}: {message}") from None
    gold = None if args.gold is None else _read_gold(args.gold, args, tasks)

    progress(
        f"fitting {method} on {crowd.shape[0]} tasks x {crowd.shape[1]} workers "
        f"({crowd.nnz} labels)"
    )
    try:
        labels, confidence = _fit_labels(est, crowd, classes)
    except ValueError as exc:
        raise CLIError(f"{method} failed: {_one_line(exc)}") from None
    has_label = df[args.label_column].notna().to_numpy()
    task_order = _order_of_appearance(df[args.task_column][has_label], tasks)
    worker_order = _order_of_appearance(df[args.worker_column][has_label], workers)
    result = pd.DataFrame(
        {
            "task": tasks[task_order],
            "label": labels[task_order],
            "confidence": confidence[task_order],
        }
    )
    outputs = [(args.output, result)]
    if args.workers is not None:
        outputs.append((args.workers, _worker_table(est, workers).iloc[worker_order]))
    accuracy = None
    if gold is not None:
        # compare as text: the labels were read as text, ints written back
        # unchanged (only canonical int strings became ints)
        predicted = pd.Series([str(v) for v in labels], index=pd.Index(tasks))
        hits = predicted.loc[gold.index].to_numpy() == gold.to_numpy()
        accuracy = (float(np.mean(hits)), len(gold))

    _write_outputs(outputs)
    progress.done()
    if accuracy is not None:
        _note(f"accuracy against gold: {accuracy[0]:.4f} ({accuracy[1]} tasks)")
    return _EXIT_OK


def _aggregate_bundled(args, progress):
    import numpy as np
    import pandas as pd

    from .datasets import load_truth_inference

    for option in ("workers", "gold"):
        if getattr(args, option) is not None:
            raise CLIError(f"--{option} needs an input file of answers")
    _check_writable(args.output)
    names = list(DATASETS) if args.dataset == "all" else [args.dataset]
    if args.method is not None:
        methods = [args.method]
        _resolve(args.method)
    else:
        methods = []
        for method in METHODS:
            try:
                _resolve(method)
            except CLIError as exc:
                if not args.quiet:
                    _note(f"skipping {method}: {exc}")
                continue
            methods.append(method)

    rows, failed = [], False
    n_runs, run = len(names) * len(methods), 0
    for name in names:
        data = load_truth_inference(name, sparse=True)
        known = ~pd.isna(data.y_gold)
        for method in methods:
            run += 1
            progress(f"[{run}/{n_runs}] {name}: {method}")
            est = _make_aggregator(method, args)
            start = time.perf_counter()
            try:
                labels, _ = _fit_labels(est, data.crowd, data.classes)
            except Exception as exc:  # a failing method must not hide the others
                failed = True
                _note(f"warning: {method} failed on {name}: {_one_line(exc)}")
                accuracy = np.nan
            else:
                accuracy = float(np.mean(labels[known] == data.y_gold[known]))
            rows.append(
                {
                    "dataset": name,
                    "method": method,
                    "accuracy": accuracy,
                    "time_s": time.perf_counter() - start,
                }
            )
    progress.done()
    table = pd.DataFrame(rows, columns=["dataset", "method", "accuracy", "time_s"])
    if args.output in (None, "-"):
        text = table.to_string(
            index=False,
            formatters={"accuracy": "{:.4f}".format, "time_s": "{:.3f}".format},
        )
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:
        _write_outputs([(args.output, table)])
    return _EXIT_FAILED if failed else _EXIT_OK


# -- writing ----------------------------------------------------------------
def _write_csv(table, stream):
    table.to_csv(stream, index=False, float_format="%.6g", lineterminator="\n")


def _write_outputs(outputs):
    """Write (path, DataFrame) pairs: files atomically, then stdout.

    Each file is written to a temporary file in its directory and moved in
    place with ``os.replace`` only once every file was written, so a failure
    never leaves a partial or half-updated output.
    """
    temps = []
    try:
        for path, table in outputs:
            if path in (None, "-"):
                continue
            directory = os.path.dirname(os.path.abspath(path))
            try:
                fd, tmp = tempfile.mkstemp(
                    dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
                )
            except OSError as exc:
                reason = exc.strerror or _one_line(exc)
                raise CLIError(f"cannot write {path!r}: {reason}") from None
            temps.append((tmp, path))
            try:
                with os.fdopen(fd, "w", newline="", encoding="utf-8") as stream:
                    _write_csv(table, stream)
                _set_default_mode(tmp, path)
            except OSError as exc:
                reason = exc.strerror or _one_line(exc)
                raise CLIError(f"cannot write {path!r}: {reason}") from None
        for tmp, path in temps:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                reason = exc.strerror or _one_line(exc)
                raise CLIError(f"cannot write {path!r}: {reason}") from None
        temps = []
    finally:
        for tmp, _ in temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    for path, table in outputs:
        if path in (None, "-"):
            _write_csv(table, sys.stdout)
            sys.stdout.flush()


def _set_default_mode(tmp, path):
    """mkstemp makes 0600 files: give the output the mode a plain open() would."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        os.chmod(tmp, mode)
    except OSError:
        pass


# -- entry point ------------------------------------------------------------
def main(argv=None):
    """Run the ``skcrowd`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name; ``None`` reads
        ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success; 2 for a usage error or malformed input (reported as
        one ``skcrowd: error: ...`` line on stderr, with no output file
        written); 1 when a method failed on a bundled dataset.

    Examples
    --------
    >>> from skcrowd.__main__ import main
    >>> main(["--version"])
    skcrowd ...
    0
    >>> main(["aggregate", "--dataset", "bluebirds", "--method", "mv", "-q"])
      dataset method accuracy time_s
    bluebirds     mv   0.7593  ...
    0
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else _EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return _EXIT_USAGE
    progress = _Progress(enabled=not args.quiet)
    try:
        if args.answers is None:
            return _aggregate_bundled(args, progress)
        return _aggregate_file(args, progress)
    except CLIError as exc:
        progress.done()
        sys.stderr.write(f"{PROG}: error: {_one_line(exc)}\n")
        return _EXIT_USAGE
    except KeyboardInterrupt:
        progress.done()
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
