"""The model's data: standardised arrays from the panel's model frame, the team-effects choice, the data hash, size warnings."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pandas as pd

from bstate_stats.errors import EstimationWarning, SpecificationError
from bstate_stats.models.hierarchical.spec import (
    HierarchicalSpec,
    Parameterisation,
)
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.panel.panel import Panel

LARGE_PANEL_ROWS = 10_000
MEASURED_LARGE_PANEL = (12_000, 11.2, 211.9)  # rows, set-up s, sampling s (nutpie, 2 cores; benchmarks/bench_samplers.py)


def _standardise(values: pd.Series, name: str) -> tuple[np.ndarray, float, float]:
    mean, sd = float(values.mean()), float(values.std(ddof=0))
    if not np.isfinite(sd) or sd == 0:
        raise SpecificationError(f"driver {name!r} has no variation in the estimation sample: its effect is not identified")
    return ((values - mean) / sd).to_numpy(dtype=float), mean, sd


def _unit(panel: Panel, column: str) -> float:
    """Effects are reported per +10 points for 0-100 indices, per +1 otherwise."""
    return 10.0 if panel.scales.get(column) == "percent_0_100" else 1.0


def prepare_data(panel: Panel, spec: HierarchicalSpec) -> tuple[dict[str, np.ndarray], dict, ExclusionLedger]:
    """Arrays for the model (``constant_data``), metadata for the attrs, and the ledger of excluded rows."""
    extra = ["region"] if panel.has_regions else []
    frame = panel.model_frame(spec.outcome, spec.drivers, extra=extra)
    data, ledger = frame.data, frame.ledger
    if data.empty:
        raise SpecificationError(f"no rows have {spec.outcome} and all of {list(spec.drivers)}:\n{ledger}")
    team = data.index.get_level_values("team")
    teams = pd.Index(team.unique()).sort_values()
    regions = pd.Index(data["region"].unique()).sort_values() if extra else pd.Index(["all"])
    team_region = data.groupby(level="team")["region"].first().reindex(teams) if extra else pd.Series("all", index=teams)
    t = data.index.get_level_values("t").to_numpy()
    periods = np.unique(t)
    y = data[spec.outcome].to_numpy(dtype=float)
    if np.nanstd(y) == 0:
        raise SpecificationError(f"{spec.outcome} is constant ({y[0]:g}) in every row: there is nothing to explain")
    habit, *others = list(frame.drivers)
    x_habit, habit_mean, habit_sd = _standardise(data[habit], habit)
    other_std, other_scale = [], {}
    for column in others:
        values, mean, sd = _standardise(data[column], column)
        other_std.append(values)
        other_scale[column] = (mean, sd)
    arrays = {
        "y": y,
        "team_idx": teams.get_indexer(team),
        "period_idx": np.searchsorted(periods, t),
        "team_region_idx": regions.get_indexer(team_region.to_numpy()),
        "x_habit": x_habit,
        "x_other": np.column_stack(other_std) if other_std else np.zeros((len(y), 0)),
        "habit_raw": data[habit].to_numpy(dtype=float),
    }
    meta = {
        "outcome": spec.outcome,
        "habit": habit,
        "others": others,
        "habit_mean": habit_mean,
        "habit_sd": habit_sd,
        "habit_unit": _unit(panel, habit.split("_lag")[0]),
        "other_scale": other_scale,
        "other_units": {c: _unit(panel, c) for c in others},
        "teams": [str(x) for x in teams],
        "regions": [str(x) for x in regions],
        "periods": [str(panel.period_label(int(p))) for p in periods],
        "periods_per_year": panel.period_format.periods_per_year,
        "habit_scale_max": 100.0 if panel.scales.get(habit) == "percent_0_100" else None,
    }
    if spec.revenue is not None and spec.revenue in panel.data:
        revenue = _aligned(panel, data, spec.revenue)
        usable = np.isfinite(revenue) & (revenue > 0)
        ledger_revenue = ExclusionLedger(len(y))
        ledger_revenue.exclude(f"missing or zero {spec.revenue} (revenue part of the model only)", data.index[~usable])
        arrays["revenue"] = np.where(usable, revenue, np.nan)
        arrays["revenue_rows"] = np.flatnonzero(usable)
        meta["revenue_excluded"] = ledger_revenue.n_excluded
    meta["team_effects"] = team_parameterisation(arrays, spec.team_effects)
    return arrays, meta, ledger


def team_parameterisation(arrays: dict[str, np.ndarray], requested: Parameterisation = "auto") -> dict[str, str]:
    """Centred or non-centred team intercepts and habit slopes.

    The non-centred form suits teams whose own periods say little (the prior
    spread dominates); the centred form suits teams whose periods pin their
    level down, where the non-centred form couples every team's offset to
    the spread and NUTS crawls along that ridge. ``"auto"`` decides each of the
    two effects from a least-squares pilot (:func:`_team_pilot`): each team's
    standard error and, by the method of moments, the spread of teams around
    their region; the effect is centred when the median standard error is
    below that spread. Measured (``benchmarks/bench_samplers.py``, 500 teams x
    24 periods): centred intercepts took nutpie from 819 s and a minimum ESS
    of 39 to 223 s and 355 (with the split censored likelihood).

    Returns
    -------
    dict
        ``{"intercept": ..., "habit": ...}``, each ``"centred"`` or ``"non-centred"``.
    """
    if requested != "auto":
        return {"intercept": requested, "habit": requested}
    pilot = _team_pilot(arrays)
    if pilot is None:
        return {"intercept": "non-centred", "habit": "non-centred"}
    return {name: "centred" if np.median(se) < spread else "non-centred" for name, (se, spread) in pilot.items()}


def _team_pilot(arrays: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, float]] | None:
    """Per-team standard errors and between-team spread of intercept and habit slope (None when too few teams).

    A two-way within regression (common habit slope, other drivers, period
    effects) gives the residual noise and what the common parts explain.
    Intercepts: each team's mean of what is left, standard error
    sigma / sqrt(rows). Slopes: each team's own least-squares slope on what
    is left. Spreads are around region means, less the mean squared error.
    """
    team, x = arrays["team_idx"], arrays["x_habit"]
    periods = np.eye(int(arrays["period_idx"].max()) + 1)[arrays["period_idx"]][:, 1:]
    design = np.column_stack([x, arrays["x_other"], periods])

    def team_mean(values: np.ndarray) -> np.ndarray:
        return pd.DataFrame(values).groupby(team).transform("mean").to_numpy()

    within_design, within_y = design - team_mean(design), arrays["y"] - team_mean(arrays["y"][:, None]).ravel()
    coef = np.linalg.lstsq(within_design, within_y, rcond=None)[0]
    residual = within_y - within_design @ coef
    dof = len(residual) - len(np.unique(team)) - len(coef)
    if dof <= 0:
        return None
    sigma = np.sqrt(residual @ residual / dof)
    left = arrays["y"] - design[:, 1:] @ coef[1:]
    frame = pd.DataFrame({"team": team, "x": x, "level": left - coef[0] * x, "left": left})
    rows = frame.groupby("team").size()
    level = frame.groupby("team")["level"].mean()
    slopes = frame.groupby("team").apply(lambda g: g["x"].cov(g["left"]) / g["x"].var() if len(g) >= 3 and g["x"].var() > 0 else np.nan, include_groups=False)
    slope_se = sigma / np.sqrt(frame.groupby("team")["x"].var() * (rows - 1))
    region = pd.Series(arrays["team_region_idx"][level.index.to_numpy()], index=level.index)
    out = {}
    for name, estimate, se in (("intercept", level, sigma / np.sqrt(rows)), ("habit", slopes, slope_se)):
        usable = estimate.notna() & np.isfinite(se)
        if usable.sum() - region[usable].nunique() < 2:
            return None
        deviation = estimate[usable] - estimate[usable].groupby(region[usable]).transform("mean")
        between = float((deviation**2).sum() / (usable.sum() - region[usable].nunique()))
        out[name] = (se[usable].to_numpy(), float(np.sqrt(max(between - float((se[usable] ** 2).mean()), 0.0))))
    return out


def _aligned(panel: Panel, data: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` of the panel for the model rows (matched on team and grid position)."""
    source = panel.data.reset_index()[["team", "t", column]].set_index(["team", "t"])[column]
    return source.reindex(data.index).to_numpy(dtype=float)


def data_hash(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for key in sorted(arrays):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return f"sha256:{digest.hexdigest()}"


def warn_about_shape(arrays: dict[str, np.ndarray], meta: dict) -> None:
    n_rows = len(arrays["y"])
    per_team = np.bincount(arrays["team_idx"])
    teams_per_region = np.bincount(arrays["team_region_idx"])
    if (per_team == 1).any():
        warnings.warn(f"{int((per_team == 1).sum())} team(s) have a single period: their slopes come from the region (partial pooling), not their own data", EstimationWarning, stacklevel=3)
    if len(meta["regions"]) > 1 and (teams_per_region == 1).any():
        lonely = [meta["regions"][k] for k in np.flatnonzero(teams_per_region == 1)]
        warnings.warn(f"region(s) {lonely} have a single team: region and team effects are not separable there (the prior decides)", EstimationWarning, stacklevel=3)
    if n_rows > LARGE_PANEL_ROWS:
        rows, setup, sampling = MEASURED_LARGE_PANEL
        scale = n_rows / rows
        warnings.warn(
            f"{n_rows} rows: expect roughly {setup * scale:.0f} s of set-up before sampling starts and {sampling * scale / 60:.0f} min of sampling with nutpie on 2 cores "
            f"(measured: {rows} rows took {setup:.0f} s, then {sampling / 60:.1f} min; time grows about in proportion to rows)",
            EstimationWarning,
            stacklevel=3,
        )
