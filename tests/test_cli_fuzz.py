"""The command line under malformed input and interruption (issue 8).

``python -m skcrowd aggregate`` on fuzzed CSVs (hypothesis) either succeeds
with well-formed outputs or exits with status 2 and a one-line
``skcrowd: error:`` message, never a traceback, and leaves no output and no
temporary file. Outputs are written atomically: a run that fails or is
killed while writing leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skcrowd import _cli
from skcrowd.__main__ import main

TOKENS = [
    "a",
    "b",
    "t1",
    "t2",
    "w1",
    "w2",
    "x",
    "0",
    "1",
    "2",
    "-0",
    "007",
    "+1",
    "1.0",
    "0.5",
    "nan",
    "NaN",
    "NA",
    "inf",
    "-inf",
    "-1",
    "",
    " ",
    '"q,uoted"',
    '"',
    "é",
    "日本",
    "9" * 30,
    "1e400",
    "True",
    "\t",
    "a b",
    "'",
    "#",
]
HEADERS = [
    "task,worker,label",
    "worker,task,label",
    "task,worker,label,extra",
    "task,worker",
    "task;worker;label",
    "\ufefftask,worker,label",
    " task , worker , label ",
    "TASK,worker,label",
    "task,task,label",
    "",
]


@st.composite
def csv_texts(draw):
    header = draw(st.sampled_from(HEADERS))
    field = st.one_of(st.sampled_from(TOKENS), st.text(max_size=4))
    rows = draw(st.lists(st.lists(field, min_size=1, max_size=5), max_size=12))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [header] + [",".join(row) for row in rows]
    return newline.join(lines) + draw(st.sampled_from(["", newline]))


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def check_run(content, method, directory):
    answers = os.path.join(directory, "answers.csv")
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(
        answers, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})
    ) as f:
        f.write(content)
    out = os.path.join(directory, "labels.csv")
    workers = os.path.join(directory, "workers.csv")
    rc, stdout, stderr = run_cli(
        [
            "aggregate",
            answers,
            "--method",
            method,
            "-q",
            "--max-iter",
            "5",
            "-o",
            out,
            "--workers",
            workers,
        ]
    )
    assert rc in (0, 2), (rc, stderr)
    assert stdout == ""
    leftovers = [p for p in os.listdir(directory) if p.endswith(".tmp")]
    assert not leftovers, leftovers
    if rc == 2:
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("skcrowd: error: "), stderr
        assert "Traceback" not in stderr
        assert not os.path.exists(out) and not os.path.exists(workers)
    else:
        labels = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert list(labels.columns) == ["task", "label", "confidence"]
        assert len(labels) > 0 and labels["task"].is_unique
        confidence = labels["confidence"].astype(float)
        assert ((confidence >= 0) & (confidence <= 1)).all()
        report = pd.read_csv(workers, dtype=str, keep_default_na=False)
        assert list(report.columns)[:2] == ["worker", "n_labels"]
        os.remove(out)
        os.remove(workers)
    os.remove(answers)
    return rc


FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(csv_texts(), st.sampled_from(sorted(_cli.METHODS)))
def test_fuzzed_csv_fails_cleanly_or_works(content, method):
    with tempfile.TemporaryDirectory() as directory:
        check_run(content, method, directory)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.binary(max_size=64))
def test_fuzzed_bytes_fail_cleanly_or_work(content):
    with tempfile.TemporaryDirectory() as directory:
        check_run(content, "mv", directory)


GOOD = "task,worker,label\na,x,1\na,y,1\nb,x,0\nb,y,1\nc,x,0\nc,y,0\n"


def test_interrupt_during_fit_writes_nothing(tmp_path, monkeypatch):
    answers = tmp_path / "answers.csv"
    answers.write_text(GOOD)
    out = tmp_path / "labels.csv"
    out.write_text("old\n")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_cli, "_fit_labels", interrupted)
    rc, _, err = run_cli(["aggregate", str(answers), "-o", str(out)])
    assert rc == 130 and "interrupted" in err
    assert out.read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["answers.csv", "labels.csv"]


def test_failure_while_writing_the_second_output_keeps_both(tmp_path, monkeypatch):
    answers = tmp_path / "answers.csv"
    answers.write_text(GOOD)
    out, workers = tmp_path / "labels.csv", tmp_path / "workers.csv"
    out.write_text("old labels\n")
    workers.write_text("old workers\n")
    real = _cli._write_csv
    calls = []

    def failing(table, stream):
        calls.append(1)
        if len(calls) == 2:
            stream.write("worker,n_la")  # half a file, then the disk fills up
            raise OSError(28, "No space left on device")
        real(table, stream)

    monkeypatch.setattr(_cli, "_write_csv", failing)
    rc, _, err = run_cli(
        ["aggregate", str(answers), "-o", str(out), "--workers", str(workers), "-q"]
    )
    assert rc == 2 and "No space left on device" in err
    assert out.read_text() == "old labels\n"  # not replaced: all or nothing
    assert workers.read_text() == "old workers\n"
    assert sorted(os.listdir(tmp_path)) == ["answers.csv", "labels.csv", "workers.csv"]


def test_killed_while_writing_leaves_the_old_output(tmp_path):
    answers = tmp_path / "answers.csv"
    answers.write_text(GOOD)
    out = tmp_path / "labels.csv"
    out.write_text("old\n")
    started = tmp_path / "writing"
    script = textwrap.dedent(f"""
        import sys, time
        from skcrowd import _cli

        def slow(table, stream):
            text = table.to_csv(index=False)
            stream.write(text[: len(text) // 2])
            stream.flush()
            open({str(started)!r}, "w").close()
            time.sleep(60)

        _cli._write_csv = slow
        sys.exit(_cli.main(["aggregate", {str(answers)!r}, "-q", "-o", {str(out)!r}]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 60
        while not started.exists():
            assert proc.poll() is None, "the command ended before writing"
            assert time.time() < deadline, "the command never started writing"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert out.read_text() == "old\n"  # never a partial labels.csv
    partial = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert len(partial) == 1 and partial[0].startswith(".labels.csv.")


@pytest.mark.parametrize("sep", [",", ";", "\\t"])
def test_separator_mismatch_is_a_clean_error(sep, tmp_path):
    answers = tmp_path / "answers.csv"
    answers.write_text(GOOD)
    rc, _, err = run_cli(["aggregate", str(answers), "--sep", sep, "-q"])
    if sep == ",":
        assert rc == 0
    else:
        assert rc == 2 and err.startswith("skcrowd: error: ")
