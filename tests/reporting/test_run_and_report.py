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
            "fixed_effects": {"bootstrap_reps": 99, "chain_bootstrap_reps": 20},
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
    for name in ("tables/fixed_effects.csv", "tables/metrics_and_outcomes.csv", "tables/bayes_diagnostics.csv", "figures/prob_curve.png", "posterior/hierarchical.nc", "headline.json", "sections.json"):
        assert name in manifest["outputs"], name
    sections = [s["title"] for s in json.loads((out / "sections.json").read_text())]
    assert sections[0] == "Data validation" and "Bayesian hierarchical model" in sections
    assert ("tables/hierarchical_warnings.csv" in manifest["outputs"]) == ("Warnings: Bayesian hierarchical model" in sections)
    assert {"pymc", "pyfixest", "linearmodels"} <= set(manifest["versions"])
    assert manifest["seeds"] == {"hierarchical": 1, "bootstrap": 0}
    kinds = [entry.kind for entry in small_config(data_dir).analysis]
    assert list(manifest["seconds"]) == ["01 validate", *(f"{k:02d} {kind}" for k, kind in enumerate(kinds, start=2))]  # where the run's time went
    assert all(seconds >= 0 for seconds in manifest["seconds"].values())


def _report_text(out: Path) -> str:
    """The report's visible text, whitespace collapsed; typographic quotes (Quarto's pandoc writes them) as plain ones."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", (out / "report.html").read_text()))
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").split())


def test_every_figure_shows_its_description_as_alternative_text(finished):
    """Readers who cannot see a figure get its title and axes in words: the run writes them, the report uses them."""
    out, _ = finished
    descriptions = json.loads((out / "figures" / "descriptions.json").read_text())
    shown = [name for section in json.loads((out / "sections.json").read_text()) for name in section["figures"]]
    assert shown and set(shown) <= set(descriptions)
    alternative = [html.unescape(text) for text in re.findall(r'<img [^>]*alt="([^"]*)"', (out / "report.html").read_text())]
    assert alternative == [descriptions[name] for name in shown]
    assert descriptions["prob_curve"].startswith("Chance of satisfaction at or above 8") and "; y: P(satisfaction >= 8)" in descriptions["prob_curve"]


def test_every_headline_number_equals_its_table(finished, data_dir):
    """Each number of headline.json is the run's own table cell (or the data's count), not a second computation."""
    out, _ = finished
    h = json.loads((out / "headline.json").read_text())
    tables = out / "tables"
    fe = pd.read_csv(tables / "fixed_effects.csv").set_index("term").loc["habit_index"]
    assert (h["fe_effect"], h["fe_conf_low"], h["fe_conf_high"]) == pytest.approx((fe["estimate"] * 10, fe["conf_low"] * 10, fe["conf_high"] * 10), rel=1e-9)
    required = pd.read_csv(tables / "required_change.csv").set_index(["level", "estimand"])
    for estimand, keys in (("new_team", ("required_change", "required_low", "required_high")), ("teams", ("required_change_all_teams", "required_all_teams_low", "required_all_teams_high"))):
        row = required.loc[("population", estimand)]
        assert [h[k] for k in keys] == pytest.approx([row["required_change"], row["hdi_low"], row["hdi_high"]], rel=1e-9)
    curve = pd.read_csv(tables / "prob_curve.csv").query("level == 'population'").set_index("habit_change")["mean"]
    assert (h["prob_now"], h["prob_after_change"]) == pytest.approx((curve.loc[0], curve.loc[h["habit_change"]]), rel=1e-9)
    lift = pd.read_csv(tables / "revenue_lift.csv").iloc[0]
    assert [h["revenue_lift_mean"], h["revenue_lift_low"], h["revenue_lift_high"], h["revenue_lift_prob_positive"]] == pytest.approx([lift["mean"], lift["hdi_low"], lift["hdi_high"], lift["prob_positive"]], rel=1e-9)
    chain = pd.read_csv(tables / "habit_to_revenue.csv").set_index("quantity").loc["annual revenue lift"]
    assert [h["chain_lift"], h["chain_conf_low"], h["chain_conf_high"]] == pytest.approx([chain["estimate"], chain["conf_low"], chain["conf_high"]], rel=1e-9)
    revenue = pd.read_csv(tables / "revenue.csv").set_index("term")
    assert h["revenue_lift_pct"] == pytest.approx(100 * revenue.loc[revenue.index.str.startswith("lift of"), "estimate"].iloc[0], rel=1e-9)
    improved = pd.read_csv(tables / "habits_improved.csv")
    assert h["share_habits_improved"] == pytest.approx(improved["n_improved"].sum() / improved["n_items"].sum(), rel=1e-12)
    panel = bs.load_panel(data_dir)
    assert (h["n_rows"], h["n_teams"], h["n_regions"]) == (panel.n_rows, len(panel.teams), len(panel.regions))
    diagnostics = pd.read_csv(tables / "bayes_diagnostics.csv")
    assert h["converged"] == bool(diagnostics["ok"].all())
    items = pd.read_csv(tables / "satisfaction_items.csv").set_index("item")
    assert h["items_mean_last"] == pytest.approx(items["mean_last"].to_dict(), rel=1e-9) and h["items_best_region"] == items["best_region"].to_dict()
    every_item = pd.read_csv(tables / "satisfaction_items_region.csv").groupby("region")["at_or_above"].all()
    assert h["n_regions_all_items_above"] == every_item.sum()
    employees = pd.read_csv(tables / "employees_improved.csv", dtype={"period": str})
    organisation = employees[employees["level"] == "organisation"]
    assert (h["employees_improved_first"], h["employees_improved_last"]) == pytest.approx((organisation["share_improved"].iloc[0], organisation["share_improved"].iloc[-1]), rel=1e-9)
    last_regions = employees[(employees["level"] == "region") & (employees["period"] == h["employees_last_period"])].set_index("region")["share_improved"]
    assert (h["employees_improved_low"], h["employees_improved_high"]) == pytest.approx((last_regions.min(), last_regions.max()), rel=1e-9)
    assert (h["employees_improved_low_region"], h["employees_improved_high_region"]) == (last_regions.idxmin(), last_regions.idxmax())
    correlations = pd.read_csv(tables / "correlations.csv").set_index("term")
    assert [h["corr"], h["corr_low"], h["corr_high"]] == pytest.approx(correlations.loc["csat ~ habit_index", ["estimate", "conf_low", "conf_high"]].tolist(), rel=1e-9)
    assert h["corr_lag1"] == pytest.approx(correlations.loc["habit_index[t-1] ~ csat", "estimate"], rel=1e-9)
    importance = pd.read_csv(tables / "importance.csv")
    assert h["importance_top"] == importance["term"].iloc[0] and h["importance_r2"] == pytest.approx(importance["estimate"].sum(), rel=1e-9)
    assert (h["importance_top_share"], h["importance_top_prob"]) == pytest.approx((importance["share_of_r2"].iloc[0], importance["prob_top_k"].iloc[0]), rel=1e-9)
    assert set(importance["term"]) == {"habit_index", "relationship_index", "service_level", "handle_time", "fcr", "churn"}  # default: model drivers and every operational metric


def test_report_shows_every_line_of_the_executive_summary(finished):
    """The rendered report carries the summary written from headline.json, banners included, word for word."""
    from bstate_stats.reporting.summary import executive_summary

    out, _ = finished
    text = _report_text(out)
    summary = executive_summary(json.loads((out / "headline.json").read_text()))
    assert len(summary.lines) >= 8  # effects, required change, revenue, items, habits, employees, correlations
    for line in summary.lines:
        plain = " ".join(line.removeprefix("- ").replace("**", "").replace("\\$", "$").split())
        assert plain in text, plain
    for banner in summary.banners:
        assert " ".join(html.unescape(re.sub(r"<[^>]+>", " ", banner)).split()) in text
    regions = pd.read_csv(out / "tables" / "revenue_lift_region.csv")
    assert all(f"${value:,.0f}" in text for value in regions["mean"])  # money as currency in the tables too, never 98243.0
    chain = pd.read_csv(out / "tables" / "habit_to_revenue.csv").set_index("quantity")
    lift = chain.loc["annual revenue lift"]
    assert all(f"${lift[c]:,.0f}" in text for c in ("estimate", "conf_low", "conf_high"))  # a money row of a mixed table
    assert f"{chain.loc['share at or above threshold (window, before)', 'estimate']:.0%}" in text
    relative = pd.read_csv(out / "tables" / "revenue.csv").iloc[-1]
    assert f"{relative['estimate']:.0%}" in text  # exp(b) - 1 as a percentage
    for section in ("Satisfaction items against 8", "Employees seeing better relationships", "How the three families move together within teams", "Which drivers and metrics matter for satisfaction"):  # the schema's label, not the column name
        assert section in text, section
    employees = pd.read_csv(out / "tables" / "employees_improved_region.csv")
    assert all(f"{value:.0%}" in text for value in employees["share_improved"])  # shares as percentages in the region table


def test_both_convergence_banners_and_the_revenue_banner():
    from bstate_stats.reporting.summary import convergence_banners

    passed = convergence_banners({"converged": True, "convergence_message": "converged: 4 chains x 2000 draws; all checks passed", "revenue_converged": True})
    assert len(passed) == 1 and "#2e7d32" in passed[0] and "Bayesian model converged: 4 chains" in passed[0]
    failed = convergence_banners({"converged": False, "convergence_message": "NOT CONVERGED: 3 divergent transition(s)", "revenue_converged": False})
    assert len(failed) == 2 and all("#b03a2e" in b for b in failed)
    assert "did NOT converge: NOT CONVERGED: 3 divergent transition(s). Its numbers below must not be used." in failed[0]
    assert "revenue model did NOT converge" in failed[1]
    assert convergence_banners({"fe_effect": 1.0}) == ()  # no Bayesian step, no banner


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
