"""Shared fixtures: simulated case studies written to disk in each supported format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bstate_stats as bs


@pytest.fixture(scope="session")
def study():
    """The default simulated case study (seed 7)."""
    return bs.simulate.case_study(seed=7)


@pytest.fixture(scope="session")
def small_study():
    """A small case study for fast tests: 3 regions x 3 teams x 8 periods."""
    return bs.simulate.case_study(seed=3, n_regions=3, teams_per_region=3, n_periods=8, programme_start=3, ramp_periods=3)


@pytest.fixture
def table_dir(tmp_path: Path, small_study):
    """A directory holding the small study's three tables as CSV; returns a function to edit one first."""

    def write(edit=None, table: str = "deliverables", raw_text: str | None = None) -> Path:
        tables = {k: v.copy() for k, v in small_study.tables.items()}
        if edit is not None:
            tables[table] = edit(tables[table])
        for name, frame in tables.items():
            frame.to_csv(tmp_path / f"{name}.csv", index=False)
        if raw_text is not None:
            (tmp_path / f"{table}.csv").write_bytes(raw_text if isinstance(raw_text, bytes) else raw_text.encode())
        return tmp_path

    return write


def issues_for(report: bs.ValidationReport, rule_part: str, severity: str = "error") -> list:
    return [i for i in report.issues if rule_part in i.rule and i.severity == severity]


def set_cell(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    frame = frame.astype({column: object})
    frame.loc[row, column] = value
    return frame


@pytest.fixture
def mocked_sampler(monkeypatch):
    """The Bayesian engine's sampler replaced by prior draws with fake sampler statistics (no compilation, no NUTS): every fit fails its checks."""
    from pymc.testing import mock_sample

    from bstate_stats.models.hierarchical import fit

    def prior_draws(model, spec, *, progress=True, key=None):
        return lambda target_accept: mock_sample(draws=60, chains=2, model=model, random_seed=spec.random_seed, sample_stats={"diverging": lambda size: np.zeros(size, dtype=bool)})

    monkeypatch.setattr(fit, "sampler", prior_draws)
