"""Project wiring: CI runs exactly the README's test command, then the linters."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    command, *others = ci_lines
    readme = (ROOT / "README.md").read_text()
    assert command in readme
    assert "pytest" in command
    assert [line.split()[0] for line in others] == [".venv/bin/ruff", ".venv/bin/mypy", ".venv/bin/pip"]
    docs = others[-1].split("  #")[0]
    assert "mkdocs build --strict" in docs and "--quiet" not in docs  # --quiet hides the warnings --strict counts: a broken example would pass
    assert '.venv/bin/pip install -q -e ".[docs]" && .venv/bin/mkdocs build' in readme  # the README says how to build the site


def test_importing_the_package_and_the_command_line_loads_no_model_engine():
    """Public names load on first use: `import bstate_stats` and the CLI module leave PyMC, pyfixest and matplotlib unimported."""
    import subprocess
    import sys

    code = "import sys, bstate_stats, bstate_stats.cli; print(sorted(m for m in ('pymc', 'pyfixest', 'matplotlib', 'pytensor') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
