"""The main job: config checks, run outputs, manifest, reproducibility, interruption, report rendering."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import bstate_stats as bs
from bstate_stats.cli import main
from bstate_stats.reporting.config import config_from_dict, load_config
from bstate_stats.reporting.render import ReportError, render_report
from bstate_stats.reporting.run import RunExistsError, run_analysis

ROOT = Path(__file__).resolve().parents[2]


def small_config(data_dir: Path, **hierarchical):
    return config_from_dict(
        {
            "data": {"directory": str(data_dir)},
            "fixed_effects": {"bootstrap_reps": 99, "chain_reps": 20},
            "hierarchical": {"chains": 2, "draws": 300, "tune": 300, **hierarchical},
        }
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("data")
    bs.simulate.case_study(seed=3, n_regions=3, teams_per_region=4, n_periods=10, programme_start=3, ramp_periods=3).write(directory)
    return directory


@pytest.fixture(scope="module")
def finished(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "demo"
    outcome = run_analysis(small_config(data_dir), out, progress=lambda _: None)
    render_report(out)
    return out, outcome


def test_bundled_config_parses():
    config = load_config(ROOT / "analyses" / "case_study.toml")
    assert config.data_directory == (ROOT / "data" / "example").resolve()
    assert config.model.threshold == 8.0 and config.hierarchical.sampler == "nutpie"


def test_config_lists_unknown_keys_and_wrong_types():
    with pytest.raises(bs.ConfigError) as caught:
        config_from_dict({"model": {"treshold": 8.0, "habit_change": "ten"}, "extras": {}})
    message = str(caught.value)
    assert "unknown key 'treshold'" in message and "habit_change = 'ten'" in message and "unknown section [extras]" in message


def test_run_writes_outputs_and_manifest_last(finished, data_dir):
    out, outcome = finished
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == outcome.status
    assert set(manifest["inputs"]) == {str(p) for p in data_dir.glob("*.csv")}
    for name in ("tables/fixed_effects.csv", "tables/bayes_diagnostics.csv", "figures/prob_curve.png", "posterior/hierarchical.nc", "headline.json", "sections.json"):
        assert name in manifest["outputs"], name
    sections = [s["title"] for s in json.loads((out / "sections.json").read_text())]
    assert sections[0] == "Data validation" and "Bayesian hierarchical model" in sections
    assert ("tables/hierarchical_warnings.csv" in manifest["outputs"]) == ("Warnings: Bayesian hierarchical model" in sections)
    assert {"pymc", "pyfixest", "linearmodels"} <= set(manifest["versions"])
    assert manifest["seeds"] == {"hierarchical": 1, "bootstrap": 0}


def test_report_headline_numbers_equal_the_tables(finished):
    out, _ = finished
    text = html.unescape(re.sub(r"<[^>]+>", " ", (out / "report.html").read_text()))
    headline = json.loads((out / "headline.json").read_text())
    fe = pd.read_csv(out / "tables" / "fixed_effects.csv").set_index("term").loc["habit_index"]
    assert f"{fe['estimate'] * 10:+.2f} satisfaction points" in text
    assert f"{headline['fe_effect']:+.2f}" in text
    if headline["converged"]:
        assert "Bayesian model converged" in text
    else:
        assert "did NOT converge" in text
    required = pd.read_csv(out / "tables" / "required_change.csv").iloc[0]
    if required["reachable"]:
        assert f"+{required['required_change']:.1f} habit points" in text
    lift = pd.read_csv(out / "tables" / "revenue_lift.csv").iloc[0]
    assert f"${lift['mean']:,.0f}" in text


def test_rerun_gives_identical_tables(finished, data_dir, tmp_path):
    out, _ = finished
    again = tmp_path / "again"
    run_analysis(small_config(data_dir), again, progress=lambda _: None)
    first, second = json.loads((out / "manifest.json").read_text()), json.loads((again / "manifest.json").read_text())
    tables = {k: v for k, v in first["outputs"].items() if k.startswith("tables/")}
    assert tables == {k: v for k, v in second["outputs"].items() if k.startswith("tables/")}


def test_interrupted_run_leaves_no_manifest(data_dir, tmp_path, monkeypatch):
    import dataclasses

    from bstate_stats.reporting.steps import STEPS

    def interrupted(context):
        raise KeyboardInterrupt

    monkeypatch.setitem(STEPS, "hierarchical", dataclasses.replace(STEPS["hierarchical"], run=interrupted))
    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run_analysis(small_config(data_dir), out, progress=lambda _: None)
    assert not (out / "manifest.json").exists()
    with pytest.raises(ReportError, match="did not finish"):
        render_report(out)


def test_different_run_refused_without_force(finished, data_dir):
    out, _ = finished
    other = small_config(data_dir, draws=301)
    with pytest.raises(RunExistsError, match="--force"):
        run_analysis(other, out, progress=lambda _: None)


def test_invalid_data_stops_before_modelling(tmp_path, data_dir):
    bad = tmp_path / "bad"
    bad.mkdir()
    for path in data_dir.glob("*.csv"):
        (bad / path.name).write_text(path.read_text())
    lines = (bad / "deliverables.csv").read_text().splitlines()
    lines[1] = lines[1].replace(lines[1].split(",")[3], "12", 1)
    (bad / "deliverables.csv").write_text("\n".join(lines) + "\n")
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[data]\ndirectory = "{bad}"\n')
    assert main(["run", str(config_file), "--out", str(tmp_path / "out")]) == 1
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["status"] == "invalid"
    assert "csat" in (tmp_path / "out" / "tables" / "validation.csv").read_text()


def test_cli_usage_errors():
    assert main(["run"]) == 2
    assert main(["report"]) == 2
