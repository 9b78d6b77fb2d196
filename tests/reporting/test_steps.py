"""A new model family plugs in by registering one step: no edit to the run, the CLI or the report."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass

import pandas as pd
import pytest

import bstate_stats as bs
from bstate_stats.reporting.config import config_from_dict
from bstate_stats.reporting.render import render_report
from bstate_stats.reporting.run import run_analysis
from bstate_stats.reporting.steps import STEPS, Section, StepContext, StepOutput, TableItem, register_step


@dataclass(frozen=True)
class ToyOptions:
    column: str = "csat"
    scale: float = 1.0


def toy_step(context: StepContext) -> StepOutput:
    """A toy family: each team's mean of one column, scaled."""
    column, scale = context.options.column, context.options.scale
    means = (context.panel.data.groupby(level="team")[column].mean() * scale).rename("mean").reset_index()
    sentence = f"Across teams, the mean of {column} runs from {means['mean'].min():.3f} to {means['mean'].max():.3f}."
    return StepOutput(tables={"toy_means": means}, headline={"toy_max": float(means["mean"].max())}, sections=[Section("Toy family: team means", sentences=(sentence,), tables=(TableItem("toy_means", 3),))])


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(STEPS, "toy_means", None)  # remembered as absent: removed again after the test
    del STEPS["toy_means"]
    register_step("toy_means", description="team means (toy family)", options=ToyOptions)(toy_step)
    yield


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("data")
    bs.simulate.case_study(seed=3, n_regions=3, teams_per_region=3, n_periods=8, programme_start=3, ramp_periods=3).write(directory)
    return directory


def test_a_registered_step_runs_and_reports(toy, data_dir, tmp_path):
    config = config_from_dict({"data": {"directory": str(data_dir)}, "hierarchical": {"enabled": False}, "analysis": [{"kind": "describe"}, {"kind": "toy_means", "column": "fcr", "scale": 100}]})
    out = tmp_path / "run"
    outcome = run_analysis(config, out, progress=lambda _: None)
    table = pd.read_csv(out / "tables" / "toy_means.csv")
    expected = pd.read_csv(data_dir / "deliverables.csv").groupby("team")["fcr"].mean() * 100
    pd.testing.assert_series_equal(table.set_index("team")["mean"], expected.rename("mean"), check_exact=False, rtol=1e-9)
    assert outcome.headline["toy_max"] == pytest.approx(expected.max())
    assert [s["title"] for s in json.loads((out / "sections.json").read_text())] == ["Data validation", "The three families over time", "Satisfaction items against 8", "Employees seeing better relationships", "Toy family: team means"]
    assert json.loads((out / "manifest.json").read_text())["config"]["analysis"][1] == {"kind": "toy_means", "column": "fcr", "scale": 100.0}
    render_report(out)
    text = html.unescape(re.sub(r"<[^>]+>", " ", (out / "report.html").read_text()))
    assert "Toy family: team means" in text and f"{expected.max():.3f}" in text


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"kind": "nope"}, "unknown analysis kind 'nope'"),
        ({"kind": "toy_means", "colum": "fcr"}, "unknown option 'colum'"),
        ({"kind": "toy_means", "scale": "ten"}, "scale = 'ten': expected float"),
        ({"column": "fcr"}, "give the step's kind as text"),
    ],
)
def test_analysis_entries_are_checked(toy, entry, message):
    with pytest.raises(bs.ConfigError, match=message):
        config_from_dict({"analysis": [entry]})


def test_registration_is_undone_after_a_test():
    assert "toy_means" not in STEPS


def test_default_steps_are_the_case_study():
    assert [e.kind for e in config_from_dict({}).analysis] == ["describe", "correlations", "importance", "metrics", "outcomes", "fixed_effects", "threshold", "revenue", "hierarchical"]
    assert [e.kind for e in config_from_dict({"hierarchical": {"enabled": False}}).analysis] == ["describe", "correlations", "importance", "metrics", "outcomes", "fixed_effects", "threshold", "revenue"]
    with pytest.raises(bs.ConfigError, match="enabled = false"):
        config_from_dict({"hierarchical": {"enabled": False}, "analysis": [{"kind": "hierarchical"}]})


def test_correlation_step_options_are_checked_before_any_data_are_read():
    config = config_from_dict({"analysis": [{"kind": "correlations", "bootstrap_reps": 199, "period_effects": True}]})
    assert config.analysis[0].options.period_effects is True and config.analysis[0].options.bootstrap_reps == 199
    with pytest.raises(bs.ConfigError, match="bootstrap_reps = 1: at least 2"):
        config_from_dict({"analysis": [{"kind": "correlations", "bootstrap_reps": 1}]})
