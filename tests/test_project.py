"""Project wiring: CI runs exactly the README's test command, then the linters."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    command, *linters = ci_lines
    assert command in (ROOT / "README.md").read_text()
    assert "pytest" in command
    assert [line.split()[0] for line in linters] == [".venv/bin/ruff", ".venv/bin/mypy"]
