"""Property: any analysis config given to the CLI ends in exit 0, or exit 1 with one sentence naming the problem.

Never a traceback and never an "internal error" (that would be a bug), whatever the config holds.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bstate_stats as bs
from bstate_stats.cli import main
from bstate_stats.reporting.config import SECTIONS

KNOWN_KEYS = sorted({f for cls in SECTIONS.values() for f in cls.__dataclass_fields__})
scalars = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["csat", "habit_index", "relationship_index", "revenue", "nutpie", "stan", "team", "twoway", "none", "censored", "auto"]),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.sampled_from(["habit_effect_mu", "noise_sd", "bogus", "deliverables", "scales"]), scalars, max_size=2))
sections = st.dictionaries(
    st.one_of(st.sampled_from(sorted(SECTIONS)), st.text(min_size=1, max_size=8)),
    st.one_of(st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(min_size=1, max_size=8)), values, max_size=4), scalars),
    max_size=4,
)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_key(key: str) -> str:
    return '"' + key.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def toml_document(config: dict) -> str:
    top = [f"{toml_key(k)} = {toml_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    tables = [f"[{toml_key(k)}]\n" + "\n".join(f"{toml_key(kk)} = {toml_value(vv)}" for kk, vv in v.items()) for k, v in config.items() if isinstance(v, dict)]
    return "\n".join(top + tables) + "\n"


def assert_clean_exit(code: int, err: str) -> None:
    assert code in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 1:
        lines = [line for line in err.splitlines() if line.startswith("bstate-stats run:")]
        assert len(lines) == 1, err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(config=sections)
def test_any_config_is_refused_in_one_sentence_or_accepted(config, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.toml"
        path.write_text(toml_document(config), encoding="utf-8")
        steps = mock.patch("bstate_stats.reporting.run._run_steps", return_value=("ok", {}))
        headline = mock.patch("bstate_stats.cli._print_headline")
        with steps, headline:
            code = main(["run", str(path), "--out", str(Path(tmp) / "out"), "--no-report"])
        assert_clean_exit(code, capsys.readouterr().err)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("data")
    bs.simulate.case_study(seed=3, n_regions=3, teams_per_region=3, n_periods=8, programme_start=3, ramp_periods=3).write(directory)
    return directory


model_values = st.fixed_dictionaries(
    {
        "outcome": st.one_of(st.just("csat"), st.sampled_from(["csat_right_person", "revenue", "fcr", "habit_index", "nope"])),
        "drivers": st.one_of(
            st.just(["habit_index", "relationship_index"]),
            st.lists(st.sampled_from(["habit_index", "relationship_index", "fcr", "daily_huddle", "service_level", "csat", "nope"]), min_size=1, max_size=3),
        ),
        "threshold": st.one_of(st.floats(5, 9.5), st.floats(-5, 15), st.sampled_from([math.nan, math.inf, 10.0, 0.0])),
        "habit_change": st.one_of(st.floats(-50, 50), st.sampled_from([0.0, math.nan, 1e300])),
        "target_prob": st.one_of(st.floats(0.05, 0.95), st.floats(-0.5, 1.5)),
    }
)


def hostile_run(model: dict, effects: str, cluster: str, data_dir: Path, capsys) -> None:
    config = {
        "data": {"directory": str(data_dir)},
        "model": model,
        "fixed_effects": {"effects": effects, "cluster": cluster, "bootstrap_reps": 9, "chain_bootstrap_reps": 3},
        "hierarchical": {"enabled": False},
    }
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(tmp) / "config.toml"
        path.write_text(toml_document(config), encoding="utf-8")
        code = main(["run", str(path), "--out", str(Path(tmp) / "out"), "--no-report"])
        out = capsys.readouterr()
        assert_clean_exit(code, out.err)
        event(f"exit {code}: {out.err.split(': ', 2)[-1].strip()[:40] if code else 'finished'}")
        if code == 0:
            assert (Path(tmp) / "out" / "manifest.json").exists()


HOSTILE = dict(model=model_values, effects=st.sampled_from(["twoway", "team", "period", "none"]), cluster=st.sampled_from(["team", "region", "twoway"]))


@settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(**HOSTILE)
def test_real_runs_with_hostile_model_settings_end_cleanly(model, effects, cluster, data_dir, capsys):
    """A fixed sample of hostile settings (derandomised, so the fast suite is repeatable); the wide search is slow."""
    hostile_run(model, effects, cluster, data_dir, capsys)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(**HOSTILE)
def test_real_runs_with_hostile_model_settings_wide_search(model, effects, cluster, data_dir, capsys):
    hostile_run(model, effects, cluster, data_dir, capsys)
