"""The one predictor: the linear predictor for any rows or any new team from the posterior draws, and what every estimand asks of it.

Every estimand (P(outcome meets a target) for a team, a region or the
organisation, the driver change a target probability needs, the revenue
lift) calls :func:`linear_predictor` or :func:`new_team_predictor` and hands
the result to the family's distribution; none re-codes the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

N_NEW_TEAMS = 64  # new teams simulated per posterior draw for the "new team" estimand (quasi-random Normal scores)


@dataclass(frozen=True)
class Draws:
    """The posterior draws the predictor needs, chains and draws stacked on the first axis (S)."""

    intercept: np.ndarray
    effects_std: np.ndarray
    team_offset: np.ndarray
    team_slope: np.ndarray
    region_offset: np.ndarray
    region_slope: np.ndarray
    period: np.ndarray
    team_sd: np.ndarray
    team_slope_sd: np.ndarray
    region_sd: np.ndarray | None
    region_slope_sd: np.ndarray | None
    aux: np.ndarray | None

    @classmethod
    def from_posterior(cls, posterior: xr.Dataset, meta: dict, aux_name: str | None) -> Draws:
        """Stack the draws of a fitted model.

        Parameters
        ----------
        posterior
            ``idata.posterior``.
        meta
            The fit's metadata (for the shapes of absent parts).
        aux_name
            The family's auxiliary parameter, or None.

        Returns
        -------
        Draws
        """

        def get(name: str) -> np.ndarray | None:
            if name not in posterior:
                return None
            return posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()

        n = posterior.sizes["chain"] * posterior.sizes["draw"]
        n_teams, n_regions, n_periods, n_varying = len(meta["teams"]), len(meta["regions"]), len(meta["periods"]), len(meta["varying"])
        zeros = np.zeros
        return cls(
            intercept=get("intercept"),  # type: ignore[arg-type]
            effects_std=get("effects_std"),  # type: ignore[arg-type]
            team_offset=get("team_intercept_offset"),  # type: ignore[arg-type]
            team_slope=_or(get("team_slope_offset"), zeros((n, n_teams, n_varying))),
            region_offset=_or(get("region_intercept_offset"), zeros((n, n_regions))),
            region_slope=_or(get("region_slope_offset"), zeros((n, n_regions, n_varying))),
            period=_or(get("period_effect"), zeros((n, n_periods))),
            team_sd=get("team_sd"),  # type: ignore[arg-type]
            team_slope_sd=_or(get("team_slope_sd"), zeros((n, n_varying))),
            region_sd=get("region_sd"),
            region_slope_sd=get("region_slope_sd"),
            aux=get(aux_name) if aux_name else None,
        )

    @property
    def n(self) -> int:
        return len(self.intercept)


def _or(values: np.ndarray | None, default: np.ndarray) -> np.ndarray:
    return default if values is None else values


def standardise(x_raw: np.ndarray, meta: dict, change: dict[int, float | np.ndarray] | None = None) -> np.ndarray:
    """Raw driver values (rows x drivers), after adding ``change`` (capped at the top of each driver's scale), standardised as in the fit.

    Parameters
    ----------
    x_raw
        Driver values on their own scales.
    meta
        The fit's metadata (means, sds, scale tops).
    change
        ``{driver position: points added}``; a change given per draw (an
        array) gives one set of rows per draw (draws x rows x drivers).

    Returns
    -------
    numpy.ndarray
    """
    x = np.array(x_raw, dtype=float, copy=True)
    for j, delta in (change or {}).items():
        if np.ndim(delta):
            x = np.repeat(x[None], np.size(delta), axis=0) if x.ndim == 2 else x
            delta = np.asarray(delta, dtype=float)[:, None]
        top = meta["driver_max"][j]
        x[..., j] = x[..., j] + delta if top is None else np.minimum(x[..., j] + delta, max(top, 0.0))
    return (x - np.asarray(meta["driver_mean"])) / np.asarray(meta["driver_sd"])


def linear_predictor(draws: Draws, meta: dict, x_std: np.ndarray, team: np.ndarray, period: np.ndarray) -> np.ndarray:
    """The linear predictor (draws x rows) of existing teams' rows.

    Parameters
    ----------
    draws
        Posterior draws.
    meta
        The fit's metadata.
    x_std
        Standardised drivers: rows x drivers, or draws x rows x drivers
        when each draw has its own values (a per-draw change).
    team, period
        Team and period positions of the rows.

    Returns
    -------
    numpy.ndarray
    """
    fixed = draws.effects_std @ x_std.T if x_std.ndim == 2 else np.einsum("sd,snd->sn", draws.effects_std, x_std)
    eta = draws.intercept[:, None] + fixed + draws.team_offset[:, team] + draws.period[:, period]
    for k, j in enumerate(meta["varying_idx"]):
        eta = eta + draws.team_slope[:, team, k] * x_std[..., j]
    return eta


def new_team_predictor(draws: Draws, meta: dict, x_std: np.ndarray, period: int, region: int | None, seed: int = 0) -> np.ndarray:
    """The linear predictor (draws x new teams) of new teams at drivers ``x_std`` in ``period``.

    A new team in ``region`` draws its intercept and varying slopes around
    that region's values with the team spreads; with ``region=None`` the team
    is in a new region too (drawn with the region spreads when regions are
    pooled, one of the observed regions in proportion to their teams
    otherwise).

    Parameters
    ----------
    draws
        Posterior draws.
    meta
        The fit's metadata.
    x_std
        Standardised drivers of the new team: one row, or draws x drivers.
    period
        Period position whose common shock applies.
    region
        Region position, or None for a new region.
    seed
        Seed of the simulated teams (the same for every estimand, so curves are smooth).

    Returns
    -------
    numpy.ndarray
        ``(draws, N_NEW_TEAMS)``.
    """
    rng = np.random.default_rng(seed)
    n_varying = len(meta["varying"])
    z_team = rng.standard_normal((N_NEW_TEAMS, 1 + n_varying))
    centre_a, centre_b = _new_team_centre(draws, meta, region, rng)
    x_std = np.broadcast_to(x_std, (draws.n, len(meta["drivers"])))
    fixed = np.einsum("sd,sd->s", draws.effects_std, x_std)
    eta = (draws.intercept + fixed + draws.period[:, period])[:, None] + centre_a + draws.team_sd[:, None] * z_team[None, :, 0]
    for k, j in enumerate(meta["varying_idx"]):
        eta = eta + (centre_b[..., k] + draws.team_slope_sd[:, [k]] * z_team[None, :, 1 + k]) * x_std[:, [j]]
    return eta


def _new_team_centre(draws: Draws, meta: dict, region: int | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Region intercept offset (draws x new teams) and slope offsets (draws x new teams x varying) of the new teams' region."""
    if region is not None:
        return draws.region_offset[:, [region]], draws.region_slope[:, [region], :]
    if meta["region_effects"] == "partial_pooling" and draws.region_sd is not None:
        z_region = rng.standard_normal((N_NEW_TEAMS, 1 + len(meta["varying"])))
        slope = draws.region_slope_sd[:, None, :] * z_region[None, :, 1:] if draws.region_slope_sd is not None else np.zeros((draws.n, N_NEW_TEAMS, len(meta["varying"])))
        return draws.region_sd[:, None] * z_region[None, :, 0], slope
    weights = np.bincount(meta["team_region_positions"], minlength=len(meta["regions"])).astype(float)
    picks = rng.choice(len(meta["regions"]), size=N_NEW_TEAMS, p=weights / weights.sum())
    return draws.region_offset[:, picks], draws.region_slope[:, picks, :]
