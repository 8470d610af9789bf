"""The command line: ``python -m skcrowd aggregate``."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skcrowd import _cli
from skcrowd.__main__ import main
from skcrowd.aggregation import DawidSkene, MajorityVote
from skcrowd.utils import crowd_matrix_from_long


def simulate_answers(n_tasks=60, n_workers=7, seed=0):
    rng = np.random.RandomState(seed)
    truth = rng.randint(0, 3, size=n_tasks)
    acc = np.linspace(0.5, 0.9, n_workers)
    rows = []
    for t in range(n_tasks):
        for w in rng.choice(n_workers, size=4, replace=False):
            label = truth[t] if rng.rand() < acc[w] else rng.randint(0, 3)
            rows.append((f"t{t:03d}", f"w{w}", int(label)))
    answers = pd.DataFrame(rows, columns=["task", "worker", "label"])
    gold = pd.DataFrame({"task": [f"t{t:03d}" for t in range(n_tasks)],
                         "label": truth})
    return answers, gold


@pytest.fixture
def answers_csv(tmp_path):
    answers, gold = simulate_answers()
    path = tmp_path / "answers.csv"
    answers.to_csv(path, index=False)
    gold.to_csv(tmp_path / "gold.csv", index=False)
    return path


def read_str(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_labels_match_dawid_skene(answers_csv, tmp_path, capsys):
    out, workers = tmp_path / "labels.csv", tmp_path / "workers.csv"
    rc = main(["aggregate", str(answers_csv), "--method", "ds", "-q",
               "--output", str(out), "--workers", str(workers)])
    assert rc == 0
    assert capsys.readouterr().out == ""

    answers = pd.read_csv(answers_csv)
    Y, tasks, worker_ids, _ = crowd_matrix_from_long(answers)
    ds = DawidSkene().fit(Y)
    result = pd.read_csv(out)
    assert list(result.columns) == ["task", "label", "confidence"]
    assert result["label"].dtype.kind == "i"  # ints stay ints, not "1.0"
    got = result.set_index("task")
    expected_conf = ds.proba_.max(axis=1)
    for i, task in enumerate(tasks):
        assert got.loc[task, "label"] == ds.labels_[i]
        assert got.loc[task, "confidence"] == pytest.approx(expected_conf[i],
                                                            rel=1e-5)
    report = pd.read_csv(workers)
    assert list(report.columns) == ["worker", "n_labels", "agreement", "accuracy"]
    expected = ds.worker_report()
    expected.index = worker_ids
    for _, row in report.iterrows():
        assert row["n_labels"] == expected.loc[row["worker"], "n_labels"]
        assert row["accuracy"] == pytest.approx(
            expected.loc[row["worker"], "accuracy"], rel=1e-5
        )
    # tasks and workers are listed in order of first appearance
    assert result["task"].tolist() == list(pd.unique(answers["task"]))
    assert report["worker"].tolist() == list(pd.unique(answers["worker"]))
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_stdout_gold_and_options(answers_csv, tmp_path, capsys):
    gold = tmp_path / "gold.csv"
    rc = main(["aggregate", str(answers_csv), "--method", "mv", "--gold", str(gold),
               "-q", "--seed", "3"])
    assert rc == 0
    captured = capsys.readouterr()
    result = pd.read_csv(pd.io.common.StringIO(captured.out))
    assert len(result) == 60
    # the accuracy goes to stderr (not silenced by --quiet), the CSV to stdout
    line = captured.err.strip()
    assert line.startswith("skcrowd: accuracy against gold: ")
    assert line.endswith("(60 tasks)")
    answers = pd.read_csv(answers_csv)
    Y, tasks, _, _ = crowd_matrix_from_long(answers)
    mv = MajorityVote(random_state=3).fit(Y)
    truth = pd.read_csv(gold).set_index("task").loc[tasks, "label"].to_numpy()
    acc = float(line.split(": ")[2].split()[0])
    assert acc == pytest.approx(np.mean(mv.labels_ == truth), abs=1e-4)
    assert result.set_index("task").loc[tasks, "label"].tolist() == (
        mv.labels_.astype(int).tolist()
    )


def test_max_iter_and_seed_reach_the_estimator(answers_csv, tmp_path):
    out = tmp_path / "labels.csv"
    assert main(["aggregate", str(answers_csv), "--max-iter", "1", "-q",
                 "-o", str(out)]) == 0
    Y, tasks, _, _ = crowd_matrix_from_long(pd.read_csv(answers_csv))
    ds = DawidSkene(max_iter=1).fit(Y)
    got = pd.read_csv(out).set_index("task").loc[tasks]
    np.testing.assert_allclose(got["confidence"], ds.proba_.max(axis=1), rtol=1e-5)
    args = _cli._build_parser().parse_args(["aggregate", "--seed", "5",
                                            "--max-iter", "7"])
    assert _cli._make_aggregator("mv", args).random_state == 5
    assert _cli._make_aggregator("ds", args).max_iter == 7


def test_string_ids_and_labels_kept_as_text(tmp_path, capsys):
    path = tmp_path / "a.tsv"
    path.write_text(
        "item\tannotator\tanswer\n"
        "007\t01\tcat\n007\t02\tcat\n7\t01\tdog\n7\t02\tdog\n7\t03\tcat\n"
        "1.0\t03\t\n"  # a row without label is dropped
    )
    rc = main(["aggregate", str(path), "--sep", "\\t", "--task-column", "item",
               "--worker-column", "annotator", "--label-column", "answer",
               "--method", "mv", "-q"])
    assert rc == 0
    result = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), dtype=str)
    assert result["task"].tolist() == ["007", "7"]
    assert result["label"].tolist() == ["cat", "dog"]


def test_non_canonical_int_labels_stay_strings(tmp_path, capsys):
    path = tmp_path / "a.csv"
    path.write_text("task,worker,label\na,x,007\na,y,007\nb,x,7\nb,y,1.0\n"
                    "b,z,1.0\n")
    assert main(["aggregate", str(path), "--method", "mv", "-q"]) == 0
    result = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), dtype=str)
    assert result["label"].tolist() == ["007", "1.0"]


def test_duplicates_first_last_and_stdin(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.csv"
    text = "task,worker,label\na,x,1\na,x,2\na,y,2\nb,x,1\n"
    path.write_text(text)
    for keep, expected in (("first", "1"), ("last", "2")):
        out = tmp_path / f"{keep}.csv"
        # with 'first', a gets one vote each for 1 and 2 (seeded tie-break);
        # with 'last', both votes are 2
        assert main(["aggregate", str(path), "--duplicates", keep, "--method",
                     "mv", "-q", "-o", str(out)]) == 0
        labels = read_str(out).set_index("task")["label"]
        if keep == "last":
            assert labels["a"] == expected
    monkeypatch.setattr(sys, "stdin", pd.io.common.StringIO(text.replace(
        "a,x,2\n", "")))
    assert main(["aggregate", "-", "--method", "mv", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "task,label,confidence"


MALFORMED = {
    "missing file": (None, "cannot read answers file"),
    "directory": ("<dir>", "cannot read answers file"),
    "empty file": ("", "is empty"),
    "header only": ("task,worker,label\n", "has a header but no rows"),
    "missing column": ("task,worker,answer\na,x,1\n", "has no column 'label'"),
    "unparseable": ("task,worker,label\na,x,1\nb,y,1,2,3,4\n", "cannot parse"),
    "binary": (b"\xff\xfe\x00\x81\x00PK\x03\x04\x00\x00", "cannot"),
    "all labels missing": ("task,worker,label\na,x,\nb,y,\n", "all are missing"),
    "continuous": ("task,worker,label\na,x,0.25\nb,y,1.5\n", "continuous"),
    "duplicates": ("task,worker,label\na,x,1\na,x,2\n", "duplicated"),
    "missing task id": ("task,worker,label\na,x,1\n,y,2\n", "missing values"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_input_exits_2_with_one_line_and_no_output(case, tmp_path,
                                                             capsys):
    content, message = MALFORMED[case]
    path = tmp_path / "answers.csv"
    if content == "<dir>":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    out, workers = tmp_path / "labels.csv", tmp_path / "workers.csv"
    rc = main(["aggregate", str(path), "-o", str(out), "--workers", str(workers)])
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("skcrowd: error: ")
    assert message in lines[0]
    assert not out.exists() and not workers.exists()
    assert sorted(os.listdir(tmp_path)) == (["answers.csv"] if content is not None
                                            else [])


def test_failure_after_fitting_leaves_existing_outputs_untouched(answers_csv,
                                                                 tmp_path, capsys):
    out, workers = tmp_path / "labels.csv", tmp_path / "workers.csv"
    out.write_text("old labels\n")
    bad_gold = tmp_path / "bad_gold.csv"
    bad_gold.write_text("task,truth\nt000,1\n")
    rc = main(["aggregate", str(answers_csv), "-o", str(out), "--workers",
               str(workers), "--gold", str(bad_gold), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("skcrowd: error: gold file")
    assert out.read_text() == "old labels\n"
    assert not workers.exists()
    # an output in a directory that does not exist
    rc = main(["aggregate", str(answers_csv), "-o", str(tmp_path / "no" / "x.csv"),
               "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot write" in err and len(err.splitlines()) == 1
    # gold tasks that match nothing
    unrelated = tmp_path / "unrelated.csv"
    unrelated.write_text("task,label\nzzz,1\n")
    rc = main(["aggregate", str(answers_csv), "-o", str(out), "--gold",
               str(unrelated), "-q"])
    assert rc == 2 and "no task of gold file" in capsys.readouterr().err
    assert out.read_text() == "old labels\n"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_usage_errors(answers_csv, capsys, monkeypatch):
    for argv in (
        ["aggregate", str(answers_csv), "--method", "nope"],
        ["aggregate", str(answers_csv), "--max-iter", "0"],
        ["aggregate", str(answers_csv), "--duplicates", "sum"],
        ["frobnicate"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith("skcrowd: error: ")
    assert main([]) == 2
    assert "usage: skcrowd" in capsys.readouterr().err
    # a method whose class is not in skcrowd.aggregation: a clean error
    monkeypatch.setitem(_cli.METHODS, "glad", "NoSuchAggregator")
    assert main(["aggregate", str(answers_csv), "--method", "glad"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skcrowd: error: method 'glad' needs")
    assert main(["aggregate", "--method", "glad", "--dataset", "bluebirds"]) == 2
    assert "NoSuchAggregator" in capsys.readouterr().err
    assert main(["aggregate", "--workers", "w.csv"]) == 2
    assert "needs an input file" in capsys.readouterr().err


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "aggregate" in capsys.readouterr().out
    assert main(["aggregate", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--method", "--gold", "--duplicates", "--task-column", "--sep"):
        assert option in out
    assert main(["--version"]) == 0
    from skcrowd import __version__

    assert capsys.readouterr().out.strip() == f"skcrowd {__version__}"


def test_progress_on_stderr_unless_quiet(answers_csv, tmp_path, capsys,
                                         monkeypatch):
    monkeypatch.setattr(_cli._Progress, "delay", 0.0)
    out = tmp_path / "labels.csv"
    assert main(["aggregate", str(answers_csv), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "skcrowd: fitting ds on 60 tasks x 7 workers (240 labels)" in err
    assert main(["aggregate", str(answers_csv), "-o", str(out), "-q"]) == 0
    assert capsys.readouterr().err == ""


def _has_bundled_datasets():
    try:
        from skcrowd.datasets import load_truth_inference  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _has_bundled_datasets(),
                    reason="skcrowd.datasets.load_truth_inference not available")
def test_bundled_run_prints_accuracies(tmp_path, capsys):
    rc = main(["aggregate", "--dataset", "bluebirds", "-q"])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["dataset", "method", "accuracy", "time_s"]
    table = {parts[1]: float(parts[2]) for parts in map(str.split, lines[1:])}
    assert {"mv", "ds"} <= set(table)
    assert table["mv"] == pytest.approx(0.7593, abs=1e-4)
    assert table["ds"] > 0.85
    out = tmp_path / "results.csv"
    assert main(["aggregate", "--dataset", "temp", "--method", "ds", "-q",
                 "-o", str(out)]) == 0
    results = pd.read_csv(out)
    assert results[["dataset", "method"]].values.tolist() == [["temp", "ds"]]
    assert results["accuracy"].iloc[0] > 0.9


def run_module(*args, **kwargs):
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120,
        **kwargs,
    )


def imported_modules(stderr):
    """Top-level names of the modules a ``python -X importtime`` run imported."""
    return {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_subprocess_run_imports_no_torch(answers_csv, tmp_path):
    out = tmp_path / "labels.csv"
    proc = run_module("-X", "importtime", "-m", "skcrowd", "aggregate",
                      str(answers_csv), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == ""
    modules = imported_modules(proc.stderr)
    assert {"skcrowd", "sklearn", "pandas"} <= modules
    assert "torch" not in modules and "skorch" not in modules
    assert len(pd.read_csv(out)) == 60


def test_startup_is_light():
    proc = run_module("-c", "import skcrowd.__main__, sys; "
                      "assert 'torch' not in sys.modules")
    assert proc.returncode == 0, proc.stderr
    # --help needs nothing beyond the standard library
    proc = run_module("-X", "importtime", "-m", "skcrowd", "aggregate", "--help")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage: skcrowd aggregate" in proc.stdout
    heavy = {"numpy", "pandas", "scipy", "sklearn", "torch"}
    assert not heavy & imported_modules(proc.stderr)


@pytest.mark.parametrize("method", list(_cli.METHODS))
def test_every_method_matches_its_estimator(method, answers_csv, tmp_path):
    import skcrowd.aggregation

    cls = getattr(skcrowd.aggregation, _cli.METHODS[method], None)
    if cls is None:
        pytest.skip(f"skcrowd.aggregation has no {_cli.METHODS[method]} yet")
    out, workers = tmp_path / "labels.csv", tmp_path / "workers.csv"
    assert main(["aggregate", str(answers_csv), "--method", method, "-q",
                 "-o", str(out), "--workers", str(workers)]) == 0
    est = cls()
    if "random_state" in est.get_params():
        est.set_params(random_state=0)
    Y, tasks, worker_ids, _ = crowd_matrix_from_long(pd.read_csv(answers_csv))
    est.fit(Y)
    got = pd.read_csv(out).set_index("task").loc[tasks]
    np.testing.assert_array_equal(got["label"], est.labels_.astype(int))
    pos = np.searchsorted(est.classes_, est.labels_)
    np.testing.assert_allclose(got["confidence"],
                               est.proba_[np.arange(len(pos)), pos], rtol=1e-5)
    report = pd.read_csv(workers)
    assert report.columns[:4].tolist() == ["worker", "n_labels", "agreement",
                                           "accuracy"]
    assert sorted(report["worker"]) == sorted(worker_ids)
