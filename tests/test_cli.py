"""The command line: simulate, validate, exit codes."""

from __future__ import annotations

import json

from bstate_stats.cli import main


def test_simulate_then_validate(tmp_path, capsys):
    assert main(["simulate", "--out", str(tmp_path), "--seed", "3"]) == 0
    assert (tmp_path / "deliverables.csv").exists()
    assert main(["validate", str(tmp_path)]) == 0
    assert "Validation passed" in capsys.readouterr().out


def test_validate_invalid_exits_1_with_json(tmp_path, capsys):
    main(["simulate", "--out", str(tmp_path), "--seed", "3"])
    path = tmp_path / "deliverables.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("csat")] = "11"
    path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    capsys.readouterr()
    assert main(["validate", str(tmp_path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["issues"][0]["column"] == "csat"
    assert report["issues"][0]["rows"] == [2]


def test_usage_errors_exit_2(tmp_path):
    assert main([]) == 2
    assert main(["validate"]) == 2
    assert main(["validate", str(tmp_path / "nope")]) == 2
