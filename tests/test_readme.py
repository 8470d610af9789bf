"""The README's two commands stay true and CI runs the test command verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (ROOT / "README.rst").read_text()
    return re.findall(r"^    (python -m pip install .+)$", text, flags=re.M)


def test_readme_has_two_fresh_machine_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("python -m skcrowd aggregate")
    assert commands[1].endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _readme_commands()[1] in ci.splitlines()
