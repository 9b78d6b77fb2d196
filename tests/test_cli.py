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


def _config(tmp_path, data, steps, **hierarchical):
    lines = [f'[data]\ndirectory = "{data}"', "[fixed_effects]\nbootstrap_reps = 0\nchain_bootstrap_reps = 10"]
    lines.append("[hierarchical]\n" + "\n".join(f"{k} = {v}" for k, v in hierarchical.items()))
    lines += [f'[[analysis]]\nkind = "{step}"' for step in steps]
    path = tmp_path / f"{'_'.join(steps)}.toml"
    path.write_text("\n\n".join(lines) + "\n")
    return path


def test_strict_exits_1_only_when_a_model_did_not_converge(tmp_path, capsys, mocked_sampler):
    """--strict: a run whose Bayesian model fails its checks (sampling mocked: prior draws) exits 1, its outputs kept; a run that is all right exits 0."""
    import bstate_stats as bs

    data = tmp_path / "data"
    bs.simulate.case_study(seed=3, n_regions=3, teams_per_region=3, n_periods=8, programme_start=3, ramp_periods=3).write(data)
    fixed = _config(tmp_path, data, ["describe", "fixed_effects"])
    assert main(["run", str(fixed), "--out", str(tmp_path / "fe"), "--strict", "--no-report"]) == 0
    short = _config(tmp_path, data, ["hierarchical"])
    assert main(["run", str(short), "--out", str(tmp_path / "bayes"), "--strict", "--no-report"]) == 1
    manifest = json.loads((tmp_path / "bayes" / "manifest.json").read_text())
    assert manifest["status"] == "not_converged" and "tables/bayes_diagnostics.csv" in manifest["outputs"]
    assert "Traceback" not in capsys.readouterr().err
