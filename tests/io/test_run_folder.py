"""Output folders are owned: a run replaces only what a bstate run wrote, one run per folder, faults said plainly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import bstate_stats as bs
from bstate_stats.cli import main
from bstate_stats.errors import OutputError, RunFolderError, RunLockedError
from bstate_stats.io.atomic import file_hash
from bstate_stats.io.lock import LOCK_NAME as LOCK
from bstate_stats.io.run_folder import (
    JOURNAL,
    MANIFEST,
    RunExistsError,
    RunFolder,
    inspect_folder,
    read_manifest,
)
from bstate_stats.reporting.render import render_report

CONFIG = {"model": {"outcome": "csat"}}


def finished_run(path: Path, config: dict = CONFIG, files: tuple[str, ...] = ("tables/a.csv", "figures/b.png")) -> Path:
    """A finished run made through RunFolder (no models fitted)."""
    with RunFolder.claim(path, config=config, replace=True) as folder:
        for name in files:
            folder.write_text(name, f"content of {name}\n")
        folder.finish(inputs=[], config=config, seeds={}, status="ok")
    return path


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def user_folder(path: Path) -> Path:
    """A researcher's folder: a thesis and a data folder."""
    (path / "data").mkdir(parents=True)
    (path / "thesis.docx").write_bytes(b"my only copy")
    (path / "data" / "survey.csv").write_text("team,score\nA,1\n")
    return path


# -- ownership -------------------------------------------------------------------------
def test_new_folder_is_claimed_and_lock_released(tmp_path):
    out = tmp_path / "new" / "run"
    folder = RunFolder.claim(out, config=CONFIG)
    assert (out / LOCK).exists()
    folder.write_frame("tables/x.csv", pd.DataFrame({"a": [1]}))
    folder.finish(inputs=[], config=CONFIG, seeds={}, status="ok")
    folder.release()
    assert not (out / LOCK).exists()
    manifest = read_manifest(out)
    assert set(manifest["outputs"]) == {"tables/x.csv"}
    assert json.loads((out / JOURNAL).read_text())["files"].keys() == {"tables/x.csv", MANIFEST}


def test_empty_folder_is_claimed(tmp_path):
    finished_run(tmp_path)
    assert read_manifest(tmp_path)["status"] == "ok"


@pytest.mark.parametrize("replace", [False, True])
def test_folder_with_user_files_is_refused_and_untouched(tmp_path, replace):
    user_folder(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(RunFolderError, match="files no bstate run wrote: data/survey.csv, thesis.docx") as caught:
        RunFolder.claim(tmp_path, config=CONFIG, replace=replace)
    assert "never deletes or overwrites" in str(caught.value)
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "thesis.docx"]  # no lock, no journal left behind


def test_cli_run_force_refuses_a_user_folder(tmp_path, capsys):
    out = user_folder(tmp_path / "project")
    before = snapshot(out)
    config = tmp_path / "config.toml"
    config.write_text('[data]\ndirectory = "nowhere"\n')
    assert main(["run", str(config), "--out", str(out), "--force"]) == 1
    err = capsys.readouterr().err
    assert "thesis.docx" in err and "Traceback" not in err
    assert snapshot(out) == before


def test_cli_demo_refuses_the_working_directory(tmp_path, monkeypatch, capsys):
    user_folder(tmp_path)
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--out", "."]) == 1
    assert "thesis.docx" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_rerun_replaces_only_the_earlier_runs_files(tmp_path):
    finished_run(tmp_path, files=("tables/a.csv", "tables/old_only.csv"))
    with RunFolder.claim(tmp_path, config=CONFIG) as folder:
        assert not (tmp_path / MANIFEST).exists()  # never looks finished while it runs
        assert not (tmp_path / "tables" / "old_only.csv").exists()
        folder.write_text("tables/a.csv", "new\n")
        folder.finish(inputs=[], config=CONFIG, seeds={}, status="ok")
    assert set(read_manifest(tmp_path)["outputs"]) == {"tables/a.csv"}
    assert any("replaced the earlier run" in n for n in folder.notices)


def test_different_run_needs_replace(tmp_path):
    finished_run(tmp_path, config={"model": {"outcome": "csat"}})
    with pytest.raises(RunExistsError, match="--force"):
        RunFolder.claim(tmp_path, config={"model": {"outcome": "churn"}})
    assert read_manifest(tmp_path)["status"] == "ok"  # refused before anything changed
    finished_run(tmp_path, config={"model": {"outcome": "churn"}})
    assert read_manifest(tmp_path)["config"] == {"model": {"outcome": "churn"}}


def test_user_file_added_to_a_run_folder_is_refused(tmp_path):
    finished_run(tmp_path)
    (tmp_path / "tables" / "my_notes.csv").write_text("mine\n")
    with pytest.raises(RunFolderError, match="tables/my_notes.csv"):
        RunFolder.claim(tmp_path, config=CONFIG, replace=True)
    assert (tmp_path / "tables" / "my_notes.csv").read_text() == "mine\n"


def test_run_file_edited_by_the_user_is_refused(tmp_path):
    finished_run(tmp_path)
    (tmp_path / "tables" / "a.csv").write_text("my corrections\n")
    with pytest.raises(RunFolderError, match=r"changed since the run wrote them: tables/a.csv"):
        RunFolder.claim(tmp_path, config=CONFIG, replace=True)
    assert (tmp_path / "tables" / "a.csv").read_text() == "my corrections\n"


def test_symlink_in_a_run_folder_is_foreign_and_never_followed(tmp_path):
    target = user_folder(tmp_path / "elsewhere")
    out = finished_run(tmp_path / "run")
    (out / "linked").symlink_to(target, target_is_directory=True)
    with pytest.raises(RunFolderError, match="linked"):
        RunFolder.claim(out, config=CONFIG, replace=True)
    assert (target / "thesis.docx").read_bytes() == b"my only copy"


def test_interrupted_run_is_replaced_with_its_leftovers(tmp_path):
    with RunFolder.claim(tmp_path, config=CONFIG) as folder:
        folder.write_text("tables/a.csv", "partial\n")
    (tmp_path / "tables" / ".b.csv.abcd1234.tmp").write_text("half a write")
    state = inspect_folder(tmp_path)
    assert state.is_run and state.manifest is None
    finished_run(tmp_path, files=("tables/c.csv",))
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["c.csv"]


def test_legacy_run_without_journal_is_recognised(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "a.csv").write_text("x\n")
    (tmp_path / "report.html").write_text("<html/>")
    digest = file_hash(tmp_path / "tables" / "a.csv")
    (tmp_path / MANIFEST).write_text(json.dumps({"status": "ok", "config": CONFIG, "inputs": {}, "outputs": {"tables/a.csv": digest}, "versions": {}}))
    finished_run(tmp_path, files=("tables/new.csv",))
    assert not (tmp_path / "report.html").exists() and (tmp_path / "tables" / "new.csv").exists()


def test_run_cannot_overwrite_a_file_it_does_not_own(tmp_path):
    with RunFolder.claim(tmp_path, config=CONFIG) as folder:
        (tmp_path / "dropped.txt").write_text("someone else's")
        with pytest.raises(RunFolderError, match="not overwritten"):
            folder.write_text("dropped.txt", "ours")
    assert (tmp_path / "dropped.txt").read_text() == "someone else's"


def test_manifest_certifies_only_files_this_run_wrote(tmp_path):
    with RunFolder.claim(tmp_path, config=CONFIG) as folder:
        folder.write_text("tables/ours.csv", "ours\n")
        (tmp_path / "tables" / "theirs.csv").write_text("written by another process\n")
        folder.finish(inputs=[], config=CONFIG, seeds={}, status="ok")
    outputs = read_manifest(tmp_path)["outputs"]
    assert set(outputs) == {"tables/ours.csv"}
    assert outputs["tables/ours.csv"] == file_hash(tmp_path / "tables" / "ours.csv")


# -- one run per folder ----------------------------------------------------------------------
HOLDER = textwrap.dedent(
    """
    import os, sys, time
    from bstate_stats.io.run_folder import RunFolder
    folder = RunFolder.claim(sys.argv[1], config={"model": {"outcome": "csat"}})
    folder.write_text("tables/first.csv", "x\\n")
    print("claimed", flush=True)
    if sys.argv[2] == "die":
        os.kill(os.getpid(), 9)   # killed mid-run: no manifest, lock file left behind
    time.sleep(60)
    """
)


def start_holder(out: Path, mode: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(out), mode], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "claimed"
    return process


def test_second_run_into_a_busy_folder_is_refused_before_writing(tmp_path):
    holder = start_holder(tmp_path, "hold")
    try:
        before = snapshot(tmp_path)
        with pytest.raises(RunLockedError, match=f"process id {holder.pid}"):
            RunFolder.claim(tmp_path, config=CONFIG)
        assert snapshot(tmp_path) == before
    finally:
        holder.kill()
        holder.wait()


def test_cli_second_run_is_refused(tmp_path, capsys):
    holder = start_holder(tmp_path / "out", "hold")
    try:
        config = tmp_path / "config.toml"
        config.write_text('[data]\ndirectory = "nowhere"\n')
        assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 1
        assert "in use by another run" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()


def test_killed_run_leaves_a_stale_lock_that_is_reported_and_taken_over(tmp_path):
    holder = start_holder(tmp_path, "die")
    assert holder.wait() == -signal.SIGKILL
    assert (tmp_path / LOCK).exists() and read_manifest(tmp_path) is None
    with pytest.raises(bs.BStateError, match="did not finish"):
        render_report(tmp_path)
    with RunFolder.claim(tmp_path, config=CONFIG) as folder:
        assert any(f"process id {holder.pid}" in n and "stopped without finishing" in n for n in folder.notices)
        assert not (tmp_path / "tables" / "first.csv").exists()
        folder.finish(inputs=[], config=CONFIG, seeds={}, status="ok")
    assert not (tmp_path / LOCK).exists()


def test_lock_is_released_when_a_run_fails(tmp_path):
    with pytest.raises(RuntimeError, match="mid-run"), RunFolder.claim(tmp_path, config=CONFIG) as folder:
        folder.write_text("tables/a.csv", "x\n")
        raise RuntimeError("a step failed mid-run")
    assert not (tmp_path / LOCK).exists() and read_manifest(tmp_path) is None
    finished_run(tmp_path)


# -- the file system says no ---------------------------------------------------------------------
def test_out_is_a_file(tmp_path, capsys):
    (tmp_path / "results.txt").write_text("mine")
    config = tmp_path / "config.toml"
    config.write_text("")
    for out in ("results.txt", "results.txt/sub"):
        assert main(["run", str(config), "--out", str(tmp_path / out)]) == 1
        err = capsys.readouterr().err
        assert "is a file" in err and "Traceback" not in err and err.count("\n") == 1
    assert (tmp_path / "results.txt").read_text() == "mine"


def test_full_disk_is_one_sentence_and_leaves_no_manifest(full_disk):
    big = pd.DataFrame({"x": range(20_000)})
    with pytest.raises(OutputError, match="disk is full") as caught:
        with RunFolder.claim(full_disk / "run", config=CONFIG) as folder:
            folder.write_text("tables/small.csv", "fits\n")
            folder.write_frame("tables/big.csv", big)
    assert "tables/big.csv" in str(caught.value)
    assert read_manifest(full_disk / "run") is None
    assert not [p for p in (full_disk / "run").rglob("*.tmp")]  # no half-written file left
    assert inspect_folder(full_disk / "run").is_run  # the next run may take it over


def test_full_disk_simulate_writes_nothing(full_disk, capsys):
    assert main(["simulate", "--out", str(full_disk / "data")]) == 1
    err = capsys.readouterr().err
    assert "disk is full" in err and "Traceback" not in err
    assert not list((full_disk / "data").glob("*"))


def test_read_only_location(read_only_disk, capsys):
    assert main(["simulate", "--out", str(read_only_disk / "data")]) == 1
    assert "read-only" in capsys.readouterr().err
    with pytest.raises(OutputError, match="read-only"):
        RunFolder.claim(read_only_disk / "run", config=CONFIG)


def test_unwritable_location_without_privileges(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "mkdir", refuse)
    assert main(["simulate", "--out", str(tmp_path / "a" / "b")]) == 1
    assert "permission denied" in capsys.readouterr().err


# -- simulate never overwrites a different file --------------------------------------------------------
def test_simulate_refuses_to_overwrite_different_tables(tmp_path, capsys):
    (tmp_path / "deliverables.csv").write_text("my own data\n")
    assert main(["simulate", "--out", str(tmp_path), "--seed", "3"]) == 1
    assert "deliverables.csv" in capsys.readouterr().err
    assert (tmp_path / "deliverables.csv").read_text() == "my own data\n"
    assert not (tmp_path / "habits.csv").exists()  # all or nothing
    assert main(["simulate", "--out", str(tmp_path), "--seed", "3", "--force"]) == 0
    assert main(["simulate", "--out", str(tmp_path), "--seed", "3"]) == 0  # the same content again is no conflict


def test_report_on_a_folder_that_is_no_run(tmp_path, capsys):
    user_folder(tmp_path)
    assert main(["report", "--run", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no manifest.json" in err and "Traceback" not in err
    assert not (tmp_path / "report.html").exists()


def test_unexpected_error_is_one_sentence_and_debug_shows_it(tmp_path, monkeypatch, capsys):
    import bstate_stats.cli as cli

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_cmd_validate", broken)
    assert cli.main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: boom)" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["--debug", "validate", str(tmp_path)])


def test_interrupt_is_reported_without_traceback(tmp_path, monkeypatch, capsys):
    import bstate_stats.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    parser = cli.build_parser()
    args = parser.parse_args(["validate", str(tmp_path)])
    args.handler = interrupted
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args))
    assert cli.main(["validate", str(tmp_path)]) == 130
    assert "interrupted" in capsys.readouterr().err


class _FixedParser:
    def __init__(self, args):
        self.args = args

    def parse_args(self, argv):
        return self.args


def test_cli_run_killed_midway_leaves_nothing_that_looks_complete(tmp_path, capsys):
    """A real `bstate-stats run` killed while it writes: no manifest, the report refuses, the next run takes over."""
    data = tmp_path / "data"
    bs.simulate.case_study(seed=3, n_regions=3, teams_per_region=3, n_periods=8, programme_start=3, ramp_periods=3).write(data)
    config = tmp_path / "config.toml"
    config.write_text(f'[data]\ndirectory = "{data}"\n[hierarchical]\nenabled = false\n[fixed_effects]\nbootstrap_reps = 9\nchain_reps = 3\n')
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "bstate_stats.cli", "run", str(config), "--out", str(out), "--no-report"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out / "tables" / "validation.csv").exists():
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert (out / "tables" / "validation.csv").exists() and not (out / MANIFEST).exists()
    assert main(["report", "--run", str(out)]) == 1
    assert "did not finish" in capsys.readouterr().err
    assert main(["run", str(config), "--out", str(out), "--no-report"]) == 0
    captured = capsys.readouterr().out
    assert "stopped without finishing" in captured and f"process id {run.pid}" in captured
    assert read_manifest(out)["status"] == "ok" and not (out / LOCK).exists()


def test_many_foreign_files_are_named_by_folder(tmp_path):
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    for k in range(30):
        (tmp_path / ".venv" / "lib" / f"m{k}.py").write_text("")
    (tmp_path / "README.md").write_text("")
    with pytest.raises(RunFolderError, match=r"\.venv/ \(30 files\), README\.md"):
        RunFolder.claim(tmp_path, config=CONFIG)


def test_another_tools_manifest_is_not_a_run(tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps({"name": "my-webapp", "outputs": {}}))
    (tmp_path / "report.html").write_text("<html>my own report</html>")
    with pytest.raises(RunFolderError, match="manifest.json, report.html"):
        RunFolder.claim(tmp_path, config=CONFIG, replace=True)
    assert (tmp_path / "report.html").read_text() == "<html>my own report</html>"


def test_cli_run_of_steps_without_fixed_effects(tmp_path, capsys):
    data = tmp_path / "data"
    bs.simulate.case_study(seed=3, n_regions=3, teams_per_region=3, n_periods=8, programme_start=3, ramp_periods=3).write(data)
    config = tmp_path / "config.toml"
    config.write_text(f'[data]\ndirectory = "{data}"\n[hierarchical]\nenabled = false\n[fixed_effects]\ncluster = ""\n[[analysis]]\nkind = "describe"\n[[analysis]]\nkind = "threshold"\n')
    assert main(["run", str(config), "--out", str(tmp_path / "out"), "--no-report"]) == 0
    assert "Run finished with status 'ok'" in capsys.readouterr().out
