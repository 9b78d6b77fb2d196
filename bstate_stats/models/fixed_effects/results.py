"""Results of :func:`bstate_stats.fixed_effects`: labelled estimates, intervals, counts and the ledger."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from bstate_stats.errors import ColumnError, SpecificationError, renamed_keywords
from bstate_stats.io.atomic import write_text
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.results.base import Results

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from bstate_stats.inference.bootstrap import BootstrapInference
    from bstate_stats.models.fixed_effects.spec import FixedEffectsSpec

SUMMARY_COLUMNS = ["term", "estimate", "std_error", "conf_low", "conf_high", "p_value"]


@dataclass(frozen=True)
class FixedEffectsResults(Results):
    """Estimates of one fixed-effects regression.

    Attributes
    ----------
    params, std_errors, pvalues, tstats
        Labelled by term, in the drivers' own units (per 1 point of the driver).
    cov
        Covariance of the estimates under ``se_convention``.
    n_rows, n_teams, n_periods, n_clusters
        Counts behind the estimates.
    rsquared
        ``{"within", "between", "overall"}`` (Stata xtreg definitions; of the log for ``family="log"``;
        empty for Poisson, where no R-squared is defined).
    mean_level
        The outcome's level in the estimation sample: its mean; events per unit of exposure for
        Poisson with an exposure (the churn rate); the mean amount for ``family="log"``.
    ledger
        Rows excluded before fitting, with reasons.
    not_identified
        Terms the design cannot estimate, with the reason; never given a number.
    bootstrap
        Wild cluster bootstrap inference per term when clusters are few.
    """

    spec: FixedEffectsSpec
    params: pd.Series
    cov: pd.DataFrame
    df: float
    n_clusters: int | None
    n_rows: int
    n_teams: int
    n_periods: int
    rsquared: dict[str, float]
    ledger: ExclusionLedger
    not_identified: dict[str, str] = field(default_factory=dict)
    bootstrap: dict[str, BootstrapInference] = field(default_factory=dict)
    se_convention: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    mean_level: float = float("nan")

    @property
    def title(self) -> str:
        s = self.spec
        what = {"linear": s.outcome, "log": f"log {s.outcome}", "poisson": f"{s.outcome} per {s.exposure}" if s.exposure else s.outcome}[s.family]
        how = " Poisson" if s.family == "poisson" else ""
        return f"{s.estimator.replace('_', ' ')}{how} estimates of {what} ({s.effects} effects)"

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov)), index=self.params.index, name="std_error")

    @property
    def tstats(self) -> pd.Series:
        return (self.params / self.std_errors).rename("t_stat")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values from t(df) (df = G-1 when clustered)."""
        return pd.Series(2 * stats.t.sf(np.abs(self.tstats), self.df), index=self.params.index, name="p_value")

    @renamed_keywords(level="confidence_level")
    def conf_int(self, confidence_level: float | None = None) -> pd.DataFrame:
        """Intervals ``estimate +/- t(df) * std_error`` at ``confidence_level`` (default: the fit's)."""
        confidence_level = self.spec.confidence_level if confidence_level is None else confidence_level
        half = stats.t.ppf(0.5 + confidence_level / 2, self.df) * self.std_errors
        return pd.DataFrame({"conf_low": self.params - half, "conf_high": self.params + half})

    @renamed_keywords(level="confidence_level")
    def effect(self, term: str, change: float = 10.0, confidence_level: float | None = None) -> pd.Series:
        """Estimated change in the outcome for ``change`` units of ``term`` (default +10 habit points)."""
        if term in self.not_identified:
            raise SpecificationError(f"{term} is not identified: {self.not_identified[term]}")
        if term not in self.params.index:
            raise ColumnError(f"{term!r} is not a term of this fit (terms: {', '.join(self.params.index)})")
        interval = self.conf_int(confidence_level).loc[term] * change
        return pd.Series(
            {"term": term, "change": change, "estimate": self.params[term] * change, "std_error": self.std_errors[term] * abs(change),
             "conf_low": min(interval), "conf_high": max(interval), "p_value": self.pvalues[term]}
        )

    @property
    def is_ratio(self) -> bool:
        """Whether coefficients are log ratios (Poisson rates, logged amounts) rather than changes in the outcome's units."""
        return self.spec.family in ("poisson", "log")

    @renamed_keywords(level="confidence_level")
    def effect_on_outcome(self, term: str, change: float = 10.0, confidence_level: float | None = None) -> pd.Series:
        """The effect of ``change`` units of ``term`` on the outcome's own scale, with its interval.

        Parameters
        ----------
        term
            A driver of the fit.
        change
            The change in the driver (default +10 habit points).
        confidence_level
            Interval level (default: the fit's).

        Returns
        -------
        pandas.Series
            ``term, change, ratio, ratio_low, ratio_high`` (rate or amount ratios; 1 for a linear fit has no
            meaning and is left empty), ``level`` (:attr:`mean_level`) and ``estimate, conf_low, conf_high``: the
            change at that level in the outcome's units (``level x (ratio - 1)`` for ratio families, e.g.
            -0.008 of a 0.05 churn rate, which sentences state as -0.8 percentage points). With few clusters
            the bootstrap interval is used where it was computed.
        """
        base = self.effect(term, change, confidence_level)
        low, high = base["conf_low"], base["conf_high"]
        boot = self.bootstrap.get(term)
        if boot is not None and (confidence_level is None or confidence_level == self.spec.confidence_level):
            low, high = sorted((boot.conf_low * change, boot.conf_high * change))
        if not self.is_ratio:
            return pd.Series({"term": term, "change": change, "ratio": np.nan, "ratio_low": np.nan, "ratio_high": np.nan, "level": self.mean_level,
                              "estimate": base["estimate"], "conf_low": low, "conf_high": high})
        ratios = np.exp([base["estimate"], low, high])
        return pd.Series(
            {"term": term, "change": change, "ratio": ratios[0], "ratio_low": ratios[1], "ratio_high": ratios[2], "level": self.mean_level,
             "estimate": self.mean_level * (ratios[0] - 1), "conf_low": self.mean_level * (ratios[1] - 1), "conf_high": self.mean_level * (ratios[2] - 1)}
        )

    def summary(self) -> pd.DataFrame:
        """Tidy table: ``term, estimate, std_error, conf_low, conf_high, p_value``.

        Non-identified terms appear with empty numbers and their reason in
        ``note``; with few clusters, ``boot_p_value, boot_conf_low, boot_conf_high`` are added.
        """
        table = pd.concat([self.params.rename("estimate"), self.std_errors, self.conf_int(), self.pvalues], axis=1)
        table = table.rename_axis("term").reset_index()[SUMMARY_COLUMNS]
        table["note"] = ""
        if self.bootstrap:
            table["boot_p_value"] = table["term"].map(lambda t: self.bootstrap[t].p_value if t in self.bootstrap else np.nan)
            table["boot_conf_low"] = table["term"].map(lambda t: self.bootstrap[t].conf_low if t in self.bootstrap else np.nan)
            table["boot_conf_high"] = table["term"].map(lambda t: self.bootstrap[t].conf_high if t in self.bootstrap else np.nan)
        missing = pd.DataFrame({"term": list(self.not_identified), "note": [f"not identified: {r}" for r in self.not_identified.values()]})
        return pd.concat([table, missing], ignore_index=True) if len(missing) else table

    def notes(self) -> list[str]:
        r2 = ", ".join(f"{k} {v:.3f}" for k, v in self.rsquared.items()) or "not defined for Poisson pseudo-maximum likelihood"
        lines = [
            f"N = {self.n_rows} rows, {self.n_teams} teams, {self.n_periods} periods; excluded {self.ledger.n_excluded} of {self.ledger.n_input} rows",
            f"R-squared: {r2}",
            f"Standard errors: {self.se_convention}",
        ]
        if self.bootstrap:
            b = next(iter(self.bootstrap.values()))
            lines.append(f"Few clusters ({self.n_clusters}): wild cluster bootstrap ({b.weights} weights, {b.reps} reps, seed {b.seed}) p-values and intervals in boot_* columns")
        lines += [f"Not identified: {t} ({r})" for t, r in self.not_identified.items()]
        return lines

    def plot(self, *, change: float = 1.0) -> Figure:
        """Coefficient plot with intervals (multiplied by ``change``, e.g. 10 for per +10 points)."""
        from bstate_stats.plots.coefficients import plot_coefficients

        return plot_coefficients(self.summary(), title=self.title, change=change)

    def sentence(self) -> str:
        """The first identified driver's estimate with its interval and the counts behind it."""
        term = next((t for t in self.params.index if t != "Intercept"), None)
        if term is None:
            return f"No driver is identified ({self.n_rows} rows)."
        low, high = self.conf_int().loc[term]
        if self.is_ratio:
            what = "rate" if self.spec.family == "poisson" else "amount"
            return (
                f"{term}: {what} of {self.spec.outcome} x{np.exp(self.params[term]):.4g} per unit ({self.spec.confidence_level:.0%} interval x{np.exp(low):.4g} to x{np.exp(high):.4g}; "
                f"{self.n_rows} rows, {self.n_teams} teams, {self.ledger.n_excluded} rows excluded)."
            )
        return (
            f"{term}: {self.params[term]:+.4g} {self.spec.outcome} per unit ({self.spec.confidence_level:.0%} interval {low:+.4g} to {high:+.4g}; "
            f"{self.n_rows} rows, {self.n_teams} teams, {self.ledger.n_excluded} rows excluded)."
        )

    def headline(self) -> dict[str, Any]:
        """Each identified term's estimate."""
        return {str(t): float(v) for t, v in self.params.items() if t != "Intercept"}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record: spec, summary, counts, R-squared, ledger, conventions."""
        return {
            "spec": {k: v for k, v in self.spec.__dict__.items()},
            "summary": json.loads(self.summary().to_json(orient="records")),
            "counts": {"rows": self.n_rows, "teams": self.n_teams, "periods": self.n_periods, "clusters": self.n_clusters},
            "rsquared": self.rsquared,
            "mean_level": self.mean_level,
            "ledger": self.ledger.to_dict(),
            "not_identified": self.not_identified,
            "se_convention": self.se_convention,
            "headline": self.headline(),
        }

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON (atomically)."""
        return write_text(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")
