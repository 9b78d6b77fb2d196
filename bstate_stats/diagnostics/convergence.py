"""Convergence checks run on every fit: R-hat, bulk and tail ESS, divergences, BFMI."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import arviz as az
import pandas as pd

from bstate_stats.errors import BStateWarning

RHAT_MAX = 1.01
ESS_MIN = 400
BFMI_MIN = 0.3
REMEDIES = (
    "increase tune and draws; raise target_accept (e.g. 0.99) for divergences; "
    "check priors with a prior predictive simulation; team_effects='non-centred' suits teams with few or noisy periods, 'centred' teams with many"
)


class ConvergenceWarning(BStateWarning):
    """A posterior failed its convergence checks: do not report it as if it were fine."""


@dataclass(frozen=True)
class DiagnosticsReport:
    """Convergence of one posterior.

    Attributes
    ----------
    table
        Per parameter (scalar element): ``parameter, r_hat, ess_bulk, ess_tail, ok``.
    divergences
        Number of divergent transitions after tuning.
    bfmi
        Bayesian fraction of missing information per chain.
    """

    table: pd.DataFrame
    divergences: int
    bfmi: tuple[float, ...]
    n_chains: int
    n_draws: int
    failures: tuple[str, ...] = field(default=())

    @property
    def converged(self) -> bool:
        return not self.failures

    def summary(self) -> pd.DataFrame:
        """One row per check: ``check, threshold, worst, ok``."""
        rows = [
            {"check": "max R-hat", "threshold": f"<= {RHAT_MAX}", "worst": float(self.table["r_hat"].max()), "ok": bool(self.table["r_hat"].max() <= RHAT_MAX)},
            {"check": "min bulk ESS", "threshold": f">= {ESS_MIN}", "worst": float(self.table["ess_bulk"].min()), "ok": bool(self.table["ess_bulk"].min() >= ESS_MIN)},
            {"check": "min tail ESS", "threshold": f">= {ESS_MIN}", "worst": float(self.table["ess_tail"].min()), "ok": bool(self.table["ess_tail"].min() >= ESS_MIN)},
            {"check": "divergences", "threshold": "0", "worst": float(self.divergences), "ok": self.divergences == 0},
            {"check": "min BFMI", "threshold": f">= {BFMI_MIN}", "worst": float(min(self.bfmi)) if self.bfmi else float("nan"), "ok": bool(min(self.bfmi, default=1.0) >= BFMI_MIN)},
        ]
        return pd.DataFrame(rows)

    def message(self) -> str:
        if self.converged:
            return f"converged: {self.n_chains} chains x {self.n_draws} draws; all checks passed"
        return "NOT CONVERGED: " + "; ".join(self.failures) + f". Remedies: {REMEDIES}"

    def to_dict(self) -> dict:
        return {"converged": self.converged, "failures": list(self.failures), "checks": self.summary().to_dict(orient="records")}


def check_convergence(idata: az.InferenceData, var_names: list[str] | None = None, *, warn: bool = True) -> DiagnosticsReport:
    """Check R-hat <= 1.01, bulk and tail ESS >= 400, zero divergences and BFMI >= 0.3.

    A failure emits a :class:`ConvergenceWarning` naming the failing
    parameters and the usual remedies (unless ``warn=False``).
    """
    posterior = idata.posterior  # type: ignore[attr-defined]
    # nutpie also stores unconstrained copies (x_log__, x_zerosum__): their constrained twins are checked
    names = var_names or [v for v in posterior.data_vars if not v.endswith("__")]
    summary = az.summary(idata, var_names=names, kind="diagnostics", round_to="none")
    table = pd.DataFrame({"parameter": summary.index, "r_hat": summary["r_hat"].to_numpy(), "ess_bulk": summary["ess_bulk"].to_numpy(), "ess_tail": summary["ess_tail"].to_numpy()})
    table["ok"] = (table["r_hat"] <= RHAT_MAX) & (table["ess_bulk"] >= ESS_MIN) & (table["ess_tail"] >= ESS_MIN)
    stats = idata.get("sample_stats")
    divergences = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    bfmi = tuple(float(b) for b in az.bfmi(idata)) if stats is not None and "energy" in stats else ()
    failures = []
    bad_rhat = table.loc[~(table["r_hat"] <= RHAT_MAX), "parameter"].tolist()
    if bad_rhat:
        failures.append(f"R-hat > {RHAT_MAX} for {len(bad_rhat)} parameter(s): {', '.join(bad_rhat[:6])}{' ...' if len(bad_rhat) > 6 else ''}")
    low_ess = table.loc[~((table["ess_bulk"] >= ESS_MIN) & (table["ess_tail"] >= ESS_MIN)), "parameter"].tolist()
    if low_ess:
        failures.append(f"ESS < {ESS_MIN} for {len(low_ess)} parameter(s): {', '.join(low_ess[:6])}{' ...' if len(low_ess) > 6 else ''}")
    if divergences:
        failures.append(f"{divergences} divergent transition(s)")
    if bfmi and min(bfmi) < BFMI_MIN:
        failures.append(f"BFMI {min(bfmi):.2f} < {BFMI_MIN}")
    report = DiagnosticsReport(table, divergences, bfmi, int(posterior.sizes["chain"]), int(posterior.sizes["draw"]), tuple(failures))
    if warn and not report.converged:
        warnings.warn(report.message(), ConvergenceWarning, stacklevel=3)
    return report
