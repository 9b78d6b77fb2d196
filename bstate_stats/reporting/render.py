"""Render a Quarto report: with ``quarto render`` when Quarto is installed, else by executing the same .qmd in a Jupyter kernel."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from bstate_stats.errors import BStateError
from bstate_stats.io.run_folder import RunFolder, read_manifest

REPORT_NAME = "case_study.qmd"
REPORT_FILE = "report.html"


class ReportError(BStateError):
    """A report cannot be rendered (no finished run, or the document failed)."""


def report_source() -> Path:
    """The case-study .qmd: from the installed package, else the checkout's ``reports/``."""
    packaged = resources.files("bstate_stats").joinpath("_data", "reports", REPORT_NAME)
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "reports" / REPORT_NAME


def _render_with_quarto(qmd: Path, run_dir: Path, target: Path) -> None:
    """Render with the Quarto CLI into a temporary folder and copy the page to ``target``."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / qmd.name
        shutil.copy(qmd, copy)
        done = subprocess.run(["quarto", "render", str(copy), "--to", "html", "-P", f"run_dir:{run_dir}"], capture_output=True, text=True)
        if done.returncode != 0:
            raise ReportError(f"quarto render failed for {qmd.name}: {done.stderr.strip()[-2000:]}")
        shutil.copyfile(copy.with_suffix(".html"), target)


def _qmd_to_notebook(text: str):
    """A notebook from Quarto Markdown without Quarto.

    jupytext's own .qmd reader calls Quarto, so the document is read as
    jupytext Markdown: the YAML front matter is set aside (it becomes a
    title) and ```{python} fences become ```python. Chunk options (#| ...)
    stay as comments in the code, as Quarto itself leaves them.
    """
    import re

    import jupytext

    title = ""
    if text.startswith("---"):
        front, text = text[3:].split("\n---", 1)
        match = re.search(r"^title:\s*\"?(.*?)\"?\s*$", front, flags=re.MULTILINE)
        title = f"# {match.group(1)}\n\n" if match else ""
    body = re.sub(r"^```\{python[^}]*\}", "```python", text, flags=re.MULTILINE)
    return jupytext.reads(title + body, fmt="md")


def _render_with_kernel(qmd: Path, run_dir: Path, target: Path, timeout: int = 600) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    notebook = _qmd_to_notebook(qmd.read_text(encoding="utf-8"))
    parameters = next((c for c in notebook.cells if c.cell_type == "code" and "#| tags: [parameters]" in c.source), None)
    injected = nbformat.v4.new_code_cell(f"run_dir = {str(run_dir)!r}")
    injected.metadata["tags"] = ["injected-parameters"]
    position = notebook.cells.index(parameters) + 1 if parameters is not None else 0
    notebook.cells.insert(position, injected)
    from nbclient.exceptions import CellExecutionError

    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(run_dir)}}).execute()
    except CellExecutionError as exc:
        raise ReportError(f"the report {qmd.name} failed while running on {run_dir}: {str(exc).strip().splitlines()[-1]}") from exc
    except Exception as exc:  # noqa: BLE001 - a kernel that dies, times out or is missing: the report cannot be made
        raise ReportError(f"the Jupyter kernel could not run the report {qmd.name} ({type(exc).__name__}: {exc})") from exc
    exporter = HTMLExporter(exclude_input=True)
    body, _ = exporter.from_notebook_node(notebook)
    target.write_text(body, encoding="utf-8")


def render_report(run_dir: str | Path, *, qmd: str | Path | None = None, engine: str = "auto") -> Path:
    """Render ``report.html`` into ``run_dir`` (which must hold a finished run).

    ``engine="auto"`` uses Quarto when ``quarto`` is on PATH and the Jupyter
    kernel path otherwise; both execute the same .qmd.
    """
    run_dir = Path(run_dir).resolve()
    manifest = read_manifest(run_dir)
    if manifest is None:
        raise ReportError(f"{run_dir} has no manifest.json: the run did not finish (or this is not a run directory)")
    if manifest.get("status") == "invalid":
        raise ReportError(f"{run_dir} stopped at validation: see tables/validation.csv")
    qmd = Path(qmd) if qmd else report_source()
    use_quarto = engine == "quarto" or (engine == "auto" and shutil.which("quarto"))
    render = _render_with_quarto if use_quarto else _render_with_kernel
    with RunFolder.reopen(run_dir) as folder:
        target = folder.write_with(REPORT_FILE, lambda p: render(qmd, run_dir, p))
        folder.add_to_manifest(REPORT_FILE)
    return target
