"""Fitting: sampling with the chosen NUTS implementation, convergence checks, provenance; prior predictive checks."""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from threadpoolctl import threadpool_limits

from bstate_stats.diagnostics.convergence import check_convergence
from bstate_stats.errors import RenamedWarning, SpecificationError, renamed_keywords
from bstate_stats.io.provenance import package_versions
from bstate_stats.models.hierarchical.build import build_model, checked_parameters
from bstate_stats.models.hierarchical.design import data_hash, prepare_data, warn_about_shape
from bstate_stats.models.hierarchical.families import Direction, FamilyName
from bstate_stats.models.hierarchical.priors import Priors
from bstate_stats.models.hierarchical.results import CONSTANT_ARRAYS, HierarchicalResults
from bstate_stats.models.hierarchical.spec import HierarchicalSpec, Parameterisation, RegionEffects, Sampler
from bstate_stats.panel.panel import Panel

OLD_LIKELIHOODS = {"censored": "censored_normal"}  # the old name; "normal" kept its name and must not warn
RETRY_TARGET_ACCEPT = 0.95  # a fit with divergent transitions is drawn again once, with this smaller step size
COMPILED_KEPT = 4  # nutpie models kept compiled in a process, the most recently used
_COMPILED: OrderedDict[str, Any] = OrderedDict()


def with_retry(draw: Callable[[float], Any], target_accept: float) -> tuple[Any, dict | None]:
    """Draw the posterior; if any transition diverged, draw it again once at ``RETRY_TARGET_ACCEPT``.

    Rare divergences are the failure a fixed geometry leaves: over 100 Poisson
    panels drawn from the priors (4 x 6 x 12), 15 fits at target_accept 0.9
    had 1 to 42 divergent transitions in 8,000 draws; refitted at 0.95, 11 of
    those 15 had none. Raising the default instead would cost every fit: the 500
    teams x 24 months fit took 80.6 s at 0.95 against 58.1 s at 0.9. The same
    seed gives the same draws on both attempts, so a fit stays reproducible,
    and the first attempt is recorded (``meta["first_attempt"]``) and said in
    the results' notes.

    Parameters
    ----------
    draw
        Samples the posterior at a given target_accept.
    target_accept
        The fit's own target_accept.

    Returns
    -------
    tuple
        The draws kept, and ``{"target_accept", "divergences"}`` of a discarded first attempt (None if there was none).
    """
    idata = draw(target_accept)
    stats = idata.get("sample_stats")
    divergent = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    if divergent and target_accept < RETRY_TARGET_ACCEPT:
        return draw(RETRY_TARGET_ACCEPT), {"target_accept": target_accept, "divergences": divergent}
    return idata, None


def _versions() -> dict[str, str]:
    return package_versions(("bstate_stats", "pymc", "pytensor", "arviz", "numpy", "pandas", "nutpie"))


def model_key(arrays: dict[str, np.ndarray], meta: dict, spec: HierarchicalSpec, priors: Priors) -> str:
    """What defines a model, as a hash: its data, labels and decisions (``meta``), specification and priors; not how it is sampled.

    Parameters
    ----------
    arrays, meta
        From :func:`~bstate_stats.models.hierarchical.design.prepare_data`.
    spec
        The specification; draws, tune, chains, seed and target_accept are left out.
    priors
        Prior scales.

    Returns
    -------
    str
        SHA-256 hex digest.
    """
    modelled = {k: v for k, v in asdict(spec).items() if k not in ("draws", "tune", "chains", "random_seed", "target_accept")}
    text = json.dumps([data_hash(arrays), modelled, asdict(priors), meta], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _compiled_nutpie(model: pm.Model, key: str | None) -> Any:
    """nutpie's compiled model, kept for the process: a second fit of the same model and data samples without compiling again."""
    import nutpie

    if key is not None and key in _COMPILED:
        _COMPILED.move_to_end(key)
        return _COMPILED[key]
    compiled = nutpie.compile_pymc_model(model)
    if key is not None:
        _COMPILED[key] = compiled
        while len(_COMPILED) > COMPILED_KEPT:
            _COMPILED.popitem(last=False)
    return compiled


def sampler(model: pm.Model, spec: HierarchicalSpec, *, progress: bool = True, key: str | None = None) -> Callable[[float], Any]:
    """The model compiled once, and a function that draws its posterior (seeded) at a given target_accept, BLAS held to one thread.

    The chains run in parallel; a multi-threaded BLAS under them makes the
    order of floating-point sums depend on the machine's load, and with it the
    draws of a seeded fit. One BLAS thread per chain gives the same draws for
    the same seed on every run. nutpie's compiled model is kept, so a second
    attempt (:func:`with_retry`) costs sampling only: drawn through ``pm.sample``
    it was compiled again (about 8 s of a small model's 13 s).

    Parameters
    ----------
    model
        The PyMC model.
    spec
        Sampler settings and seed.
    progress
        Show the sampler's progress bar.
    key
        :func:`model_key` of the model: nutpie keeps the compiled model of the
        last few keys for the process (None: compile, keep nothing).

    Returns
    -------
    callable
        ``target_accept -> arviz.InferenceData``.
    """
    if spec.sampler == "numpyro":
        try:
            import numpyro  # noqa: F401
        except ImportError as exc:
            raise SpecificationError("sampler='numpyro' needs jax and numpyro installed (pip install numpyro)") from exc
    if spec.sampler == "nutpie":
        import nutpie

        compiled = _compiled_nutpie(model, key)

        def draw_nutpie(target_accept: float):
            with threadpool_limits(limits=1, user_api="blas"):  # the same seed as pm.sample gives nutpie: the same draws
                return nutpie.sample(compiled, draws=spec.draws, tune=spec.tune, chains=spec.chains, target_accept=target_accept, seed=spec.random_seed, progress_bar=progress)

        return draw_nutpie

    def draw(target_accept: float):
        with model, threadpool_limits(limits=1, user_api="blas"):
            return pm.sample(
                draws=spec.draws, tune=spec.tune, chains=spec.chains, cores=min(spec.chains, os.cpu_count() or 1), target_accept=target_accept,
                random_seed=spec.random_seed, nuts_sampler=spec.sampler, progressbar=progress, idata_kwargs={"log_likelihood": False},
            )

    return draw


@renamed_keywords(threshold="target", likelihood="family")
def hierarchical(
    panel: Panel,
    outcome: str = "csat",
    drivers: Sequence[str] = ("habit_index",),
    *,
    random_seed: int,
    family: FamilyName = "censored_normal",
    varying: Sequence[str] | None = None,
    period_effects: bool = True,
    trials: str | None = None,
    exposure: str | None = None,
    region_effects: RegionEffects = "auto",
    target: float = HierarchicalSpec.target,
    direction: Direction = "at_least",
    priors: Priors | Mapping[str, float] | None = None,
    sampler: Sampler = HierarchicalSpec.sampler,
    chains: int = HierarchicalSpec.chains,
    draws: int = HierarchicalSpec.draws,
    tune: int = HierarchicalSpec.tune,
    target_accept: float = HierarchicalSpec.target_accept,
    credible_level: float = HierarchicalSpec.credible_level,
    team_effects: Parameterisation = HierarchicalSpec.team_effects,
    progress: bool = True,
) -> HierarchicalResults:
    r"""Fit the Bayesian hierarchical model of one outcome and check its convergence.

    Parameters
    ----------
    panel
        A validated panel (teams nested in regions; without regions the region level is dropped).
    outcome, drivers
        Outcome column and drivers (the first is the one estimands move by default).
    random_seed
        Seed of the sampler (required: the same seed gives the same draws).
    family
        ``"censored_normal"`` (scores, censored at their scale's bounds: 0-10,
        1-5, 0-100), ``"normal"``, ``"bernoulli"``, ``"binomial"`` (with
        ``trials``), ``"poisson"`` and ``"negative_binomial"`` (with an optional
        ``exposure``), ``"lognormal"``, ``"gamma"``, ``"beta"``.
    varying
        Drivers whose slopes vary by team (and region); ``()`` gives varying
        intercepts only; default: the first driver.
    period_effects
        Period shocks common to all teams.
    trials, exposure
        Count column the events are out of (binomial); exposure column (poisson, negative binomial).
    region_effects
        ``"auto"`` (partial pooling with 8 or more regions, fixed region
        intercepts below; see :func:`~bstate_stats.models.hierarchical.design.region_structure`),
        ``"partial_pooling"``, ``"fixed"`` or ``"none"``.
    target, direction
        The target the estimands ask about (satisfaction ``>= 8.0``, churn share ``<= 0.05``).
    priors
        :class:`~bstate_stats.models.hierarchical.priors.Priors` or overrides by name, in outcome units.
    sampler
        ``"nutpie"`` (default), ``"pymc"`` or ``"numpyro"``.
    chains, draws, tune, target_accept
        NUTS settings (defaults 4 x 2000 draws after 1000 tuning steps, target_accept 0.9; a fit with divergent transitions is drawn again once at 0.95 and says so: :func:`with_retry`; see the README for the measurements behind them).
    credible_level
        Probability of the reported credible intervals (default 0.9).
    team_effects
        ``"auto"`` (default), ``"centred"`` or ``"non-centred"`` team effects:
        same model, different geometry; the choice is in ``result.meta``.
    progress
        Show progress.

    Returns
    -------
    HierarchicalResults

    Notes
    -----
    Estimands are within-panel associations: a driver's effect is how a team's
    outcome moves with its own driver, pooled across teams and regions. Every
    fit is checked (R-hat <= 1.01, bulk and tail ESS >= 400, no divergences,
    BFMI >= 0.3); a failing fit warns with the parameters at fault and
    ``result.converged`` is False.
    """
    drivers = (drivers,) if isinstance(drivers, str) else tuple(drivers)
    if not drivers:
        raise SpecificationError("at least one driver is needed")
    if family in OLD_LIKELIHOODS:
        warnings.warn(f"family={family!r} is now {OLD_LIKELIHOODS[family]!r}", RenamedWarning, stacklevel=2)
        family = OLD_LIKELIHOODS[family]  # type: ignore[assignment]
    spec = HierarchicalSpec(
        outcome, drivers, random_seed, family, None if varying is None else tuple(varying), period_effects, trials, exposure, region_effects,
        sampler, chains, draws, tune, target_accept, target, direction, credible_level, team_effects,
    )
    return fit_spec(panel, spec, Priors.from_mapping(priors), progress=progress)


def fit_spec(panel: Panel, spec: HierarchicalSpec, priors: Priors, *, progress: bool = True) -> HierarchicalResults:
    """Fit a specification (the work behind :func:`hierarchical`).

    Parameters
    ----------
    panel
        A validated panel.
    spec
        What to fit.
    priors
        Prior scales.
    progress
        Show progress.

    Returns
    -------
    HierarchicalResults
    """
    arrays, meta, ledger = prepare_data(panel, spec)
    warn_about_shape(arrays, meta)
    model = build_model(arrays, meta, spec, priors)
    start = time.perf_counter()
    idata, first_attempt = with_retry(sampler(model, spec, progress=progress, key=model_key(arrays, meta, spec, priors)), spec.target_accept)
    meta["sampling_seconds"] = time.perf_counter() - start
    if first_attempt:
        meta["first_attempt"], spec = first_attempt, replace(spec, target_accept=RETRY_TARGET_ACCEPT)
    store_arrays(idata, arrays)
    idata.attrs.update(
        {
            "bstate_spec": json.dumps(asdict(spec)),
            "bstate_priors": json.dumps(asdict(priors)),
            "bstate_meta": json.dumps(meta, default=str),
            "bstate_ledger": json.dumps(ledger.to_dict()),
            "bstate_data_hash": data_hash(arrays),
            "bstate_versions": json.dumps(_versions()),
        }
    )
    return HierarchicalResults(idata, spec, priors, meta, ledger, check_convergence(idata, checked_parameters(list(idata.posterior.data_vars))), model=model)


def store_arrays(idata, arrays: dict[str, np.ndarray]) -> None:
    """Keep every array the estimands need in ``constant_data`` (prefixed ``bstate_``), so a saved posterior is self-contained.

    Parameters
    ----------
    idata
        The fit's InferenceData.
    arrays
        The model's arrays.

    Returns
    -------
    None
    """
    dims = {"x": ["bstate_row", "bstate_driver"], "x_raw": ["bstate_row", "bstate_driver"], "team_region_idx": ["bstate_team"]}
    stored = {f"bstate_{name}": xr.DataArray(arrays[name], dims=dims.get(name, ["bstate_row"])) for name in CONSTANT_ARRAYS if name in arrays}
    if "constant_data" in idata.groups():
        idata.constant_data = idata.constant_data.assign(stored)
    else:
        idata.add_groups({"constant_data": xr.Dataset(stored)})


def prior_predictive_check(
    panel: Panel,
    outcome: str = "csat",
    drivers: Sequence[str] = ("habit_index",),
    *,
    family: FamilyName = "censored_normal",
    trials: str | None = None,
    exposure: str | None = None,
    target: float = HierarchicalSpec.target,
    direction: Direction = "at_least",
    priors: Priors | Mapping[str, float] | None = None,
    samples: int = 500,
    random_seed: int = 0,
) -> pd.DataFrame:
    """Simulate outcomes from the priors alone and summarise what they imply.

    Sensible priors put simulated outcomes where the outcome can be (inside the
    scale, at plausible rates) and allow, without forcing, effects of the size
    the field reports.

    Parameters
    ----------
    panel
        A validated panel.
    outcome, drivers, family, trials, exposure
        As for :func:`hierarchical`.
    target, direction
        The target whose prior probability is summarised.
    priors
        :class:`Priors` or overrides of its defaults.
    samples
        Prior draws.
    random_seed
        Seed of the prior draws.

    Returns
    -------
    pandas.DataFrame
        ``quantity, q05, q50, q95``: simulated outcomes, the first driver's
        effect and the share of rows meeting the target, under the priors alone.
    """
    spec = HierarchicalSpec(outcome, tuple(drivers), random_seed, family=family, trials=trials, exposure=exposure, target=target, direction=direction)
    arrays, meta, _ = prepare_data(panel, spec)
    model = build_model(arrays, meta, spec, Priors.from_mapping(priors), observed_as_data=True)
    with model:
        prior = pm.sample_prior_predictive(draws=samples, random_seed=random_seed)
    simulated = prior.prior_predictive["y"].to_numpy().reshape(samples, -1)
    effects = prior.prior["effects"].to_numpy().reshape(samples, -1)[:, 0]
    scale = 1.0 if meta["extra_column"] is None or family == "bernoulli" else arrays["extra"]
    meets = (simulated / scale >= target) if direction == "at_least" else (simulated / scale <= target)
    observed = arrays["y"] / scale
    rows = [
        {"quantity": "simulated outcome", **_quantiles(simulated / scale)},
        {"quantity": "observed outcome (for comparison)", **_quantiles(observed)},
        {"quantity": f"effect of +{meta['driver_unit'][0]:g} {meta['drivers'][0]} (link scale)", **_quantiles(effects)},
        {"quantity": f"share of rows {'>=' if direction == 'at_least' else '<='} {target:g}", **_quantiles(meets.mean(axis=1))},
    ]
    return pd.DataFrame(rows)


def _quantiles(values: np.ndarray) -> dict[str, float]:
    return dict(zip(("q05", "q50", "q95"), (float(q) for q in np.quantile(values, [0.05, 0.5, 0.95]))))
