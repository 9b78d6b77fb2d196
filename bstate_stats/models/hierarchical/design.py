"""The model's data: standardised arrays from the panel's model frame, the outcome's checks, the region and team-geometry choices, size warnings."""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import numpy as np
import pandas as pd

from bstate_stats.errors import EstimationWarning, SpecificationError
from bstate_stats.models.hierarchical.families import family
from bstate_stats.models.hierarchical.geometry import period_parameterisation, team_parameterisation
from bstate_stats.models.hierarchical.spec import MIN_REGIONS_FOR_POOLING, HierarchicalSpec
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.panel.panel import Panel
from bstate_stats.schema.spec import SCALES

LARGE_PANEL_ROWS = 20_000


def _standardise(values: pd.Series, name: str) -> tuple[np.ndarray, float, float]:
    mean, sd = float(values.mean()), float(values.std(ddof=0))
    if not np.isfinite(sd) or sd == 0:
        raise SpecificationError(f"driver {name!r} has no variation in the estimation sample: its effect is not identified")
    return ((values - mean) / sd).to_numpy(dtype=float), mean, sd


def _unit(panel: Panel, column: str) -> float:
    """Effects are reported per +10 points for 0-100 indices, per +1 otherwise."""
    return 10.0 if panel.scales.get(column.split("_lag")[0]) == "percent_0_100" else 1.0


def _bounds(panel: Panel, spec: HierarchicalSpec) -> tuple[float, float] | None:
    """Censoring bounds of the outcome, from its scale (0-10, 1-5, 0-100, 0-1)."""
    if spec.family != "censored_normal":
        return None
    scale = SCALES.get(panel.scales.get(spec.outcome, "numeric"), SCALES["numeric"])
    if scale.low is None or scale.high is None:
        raise SpecificationError(f"family='censored_normal' needs a bounded scale for {spec.outcome!r} (its scale is {scale.name}); use family='normal', or declare its scale in the mapping")
    return (scale.low, scale.high)


def _check_outcome(spec: HierarchicalSpec, data: pd.DataFrame, y: np.ndarray, extra: np.ndarray | None) -> None:
    fam = family(spec.family)
    broken = fam.broken_rows(y, extra)
    if len(broken):
        labels = ", ".join(f"{t}/{p}" for t, p, *_ in data.index[broken[:5]])
        raise SpecificationError(f"family={spec.family!r} needs {spec.outcome} to be {fam.rule}: {len(broken)} row(s) are not (team/period {labels}{', ...' if len(broken) > 5 else ''})")
    if extra is not None and not (np.isfinite(extra) & (extra > 0)).all():
        raise SpecificationError(f"{spec.trials or spec.exposure} must be positive in every modelled row")
    if spec.family in ("normal", "censored_normal", "lognormal", "gamma", "beta") and np.nanstd(y) == 0:
        raise SpecificationError(f"{spec.outcome} is constant ({y[0]:g}) in every row: there is nothing to explain")
    if spec.family in ("bernoulli", "binomial", "poisson", "negative_binomial") and y.sum() == 0:
        raise SpecificationError(f"{spec.outcome} is 0 in every row: no event to explain")


def prepare_data(panel: Panel, spec: HierarchicalSpec) -> tuple[dict[str, np.ndarray], dict, ExclusionLedger]:
    """Arrays for the model (``constant_data``), metadata for the attrs, and the ledger of excluded rows.

    Parameters
    ----------
    panel
        A validated panel.
    spec
        The fit's specification.

    Returns
    -------
    tuple
        ``(arrays, meta, ledger)``.
    """
    fam = family(spec.family)
    extra_column = spec.trials or spec.exposure
    extra_columns = (["region"] if panel.has_regions else []) + ([extra_column] if extra_column else [])
    frame = panel.model_frame(spec.outcome, spec.drivers, extra=extra_columns)
    data, ledger = frame.data, frame.ledger
    if data.empty:
        raise SpecificationError(f"no rows have {spec.outcome} and all of {list(spec.drivers)}:\n{ledger}")
    y = data[spec.outcome].to_numpy(dtype=float)
    extra = data[extra_column].to_numpy(dtype=float) if extra_column else None
    _check_outcome(spec, data, y, extra)
    drivers = list(frame.drivers)
    standardised = [_standardise(data[column], column) for column in drivers]
    arrays, labels = _index_arrays(panel, data)
    arrays |= {"y": y, "x": np.column_stack([values for values, _, _ in standardised]), "x_raw": data[drivers].to_numpy(dtype=float)}
    if extra is not None:
        arrays["extra"] = extra
    working = fam.working(y, extra)
    varying = [drivers[spec.drivers.index(name)] for name in spec.varying_drivers]
    meta: dict[str, Any] = labels | {
        "outcome": spec.outcome,
        "family": spec.family,
        "drivers": drivers,
        "driver_mean": [mean for _, mean, _ in standardised],
        "driver_sd": [sd for _, _, sd in standardised],
        "driver_unit": [_unit(panel, c) for c in drivers],
        "driver_max": [_scale_high(panel, c) for c in drivers],
        "varying": varying,
        "varying_idx": [drivers.index(c) for c in varying],
        "bounds": _bounds(panel, spec),
        "centre": float(np.mean(working)),
        "unit": fam.outcome_unit(working),
        "extra_column": extra_column,
        "team_region_positions": arrays["team_region_idx"].tolist(),
        "region_effects": region_structure(len(labels["regions"]), spec.region_effects),
    }
    weight = fam.working_weight(y, extra)
    meta["team_effects"] = team_parameterisation(arrays, working, meta, spec.team_effects, weight=weight)
    meta["period_effects"] = period_parameterisation(arrays, working, spec.team_effects, weight=weight) if spec.period_effects and len(labels["periods"]) > 1 else "none"
    return arrays, meta, ledger


def _index_arrays(panel: Panel, data: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Team, period and region positions of the model rows, and the labels they stand for."""
    team = data.index.get_level_values("team")
    teams = pd.Index(team.unique()).sort_values()
    regions = pd.Index(data["region"].unique()).sort_values() if panel.has_regions else pd.Index(["all"])
    team_region = data.groupby(level="team")["region"].first().reindex(teams) if panel.has_regions else pd.Series("all", index=teams)
    t = data.index.get_level_values("t").to_numpy()
    periods = np.unique(t)
    arrays = {"team_idx": teams.get_indexer(team), "period_idx": np.searchsorted(periods, t), "team_region_idx": regions.get_indexer(team_region.to_numpy())}
    labels = {
        "teams": [str(x) for x in teams],
        "regions": [str(x) for x in regions],
        "periods": [str(panel.period_label(int(p))) for p in periods],
        "periods_per_year": panel.period_format.periods_per_year,
    }
    return arrays, labels


def _scale_high(panel: Panel, column: str) -> float | None:
    """Top of a driver's scale (100 for a 0-100 index), None when unbounded."""
    scale = SCALES.get(panel.scales.get(column.split("_lag")[0], "numeric"), SCALES["numeric"])
    return scale.high


def region_structure(n_regions: int, requested: str = "auto") -> str:
    """How regions enter the model.

    ``"partial_pooling"``: region intercepts and varying slopes around the
    population, with their spreads estimated. ``"fixed"``: each region its own
    intercept (zero-sum offsets with a fixed prior scale) and no spread of
    slopes between regions (team slopes vary around the population directly).
    ``"none"``: one region. ``"auto"`` pools with at least
    :data:`MIN_REGIONS_FOR_POOLING` regions: with fewer, a spread between
    regions is barely identified and its posterior is a funnel the sampler
    cannot cross without divergences. Measured (``benchmarks/bench_convergence.py``,
    6 teams x 18 months per region, data seeds 101 and 102): pooled, 5 regions
    gave 4 divergences for one seed and 6 regions 73 for the other; fixed
    region intercepts converged in all four fits with the same effect
    (within 0.04 of the pooled estimate); 8 and 12 regions converged pooled.

    Parameters
    ----------
    n_regions
        Regions in the data.
    requested
        The ``region_effects=`` argument.

    Returns
    -------
    str
        ``"partial_pooling"``, ``"fixed"`` or ``"none"``.
    """
    if n_regions < 2:
        return "none"
    if requested != "auto":
        if requested == "partial_pooling" and n_regions < 3:
            raise SpecificationError(f"region_effects='partial_pooling' with {n_regions} regions: a spread cannot be estimated from two values; use 'fixed'")
        return requested
    return "partial_pooling" if n_regions >= MIN_REGIONS_FOR_POOLING else "fixed"


def data_hash(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the model's arrays (stored with the posterior).

    Parameters
    ----------
    arrays
        The arrays of :func:`prepare_data`.

    Returns
    -------
    str
        ``"sha256:<hex>"``.
    """
    digest = hashlib.sha256()
    for key in sorted(arrays):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return f"sha256:{digest.hexdigest()}"


def warn_about_shape(arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Warn about teams with one period, regions with one team and very large panels.

    Parameters
    ----------
    arrays, meta
        From :func:`prepare_data`.

    Returns
    -------
    None
    """
    per_team = np.bincount(arrays["team_idx"])
    teams_per_region = np.bincount(arrays["team_region_idx"], minlength=len(meta["regions"]))
    if (per_team == 1).any():
        warnings.warn(f"{int((per_team == 1).sum())} team(s) have a single period: their slopes come from the region (partial pooling), not their own data", EstimationWarning, stacklevel=3)
    if len(meta["regions"]) > 1 and (teams_per_region == 1).any():
        lonely = [meta["regions"][k] for k in np.flatnonzero(teams_per_region == 1)]
        warnings.warn(f"region(s) {lonely} have a single team: region and team effects are not separable there (the prior decides)", EstimationWarning, stacklevel=3)
    if len(arrays["y"]) > LARGE_PANEL_ROWS:
        warnings.warn(f"{len(arrays['y'])} rows: sampling may take several minutes (12,000 rows took about a minute with nutpie on 2 cores; time grows about in proportion to rows)", EstimationWarning, stacklevel=3)
