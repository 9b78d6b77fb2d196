"""Side-by-side regression tables: estimates with standard errors in parentheses, N and R-squared."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from bstate_stats.errors import SpecificationError
from bstate_stats.models.fixed_effects.results import FixedEffectsResults

STARS = ((0.01, "***"), (0.05, "**"), (0.1, "*"))


def _stars(p: float) -> str:
    return next((mark for cut, mark in STARS if p < cut), "")


@dataclass(frozen=True)
class ComparisonTable:
    """Several fits in columns. ``frame`` holds the display strings; ``estimates`` the numbers."""

    frame: pd.DataFrame
    estimates: pd.DataFrame
    std_errors: pd.DataFrame

    def to_markdown(self) -> str:
        head = "| | " + " | ".join(self.frame.columns) + " |"
        rule = "|---|" + "|".join("---:" for _ in self.frame.columns) + "|"
        rows = [f"| {label} | " + " | ".join(row) + " |" for label, row in zip(self.frame.index, self.frame.to_numpy())]
        return "\n".join([head, rule, *rows])

    def to_latex(self) -> str:
        return self.frame.to_latex(escape=True)

    def to_html(self) -> str:
        return self.frame.to_html()

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.frame.to_string()


def compare(results: Sequence[FixedEffectsResults], *, names: Sequence[str] | None = None, stars: bool = False, digits: int = 4) -> ComparisonTable:
    """Put fits side by side: one column per fit, each term's estimate over its (standard error).

    Rows at the bottom give N, teams, within R-squared, effects, estimator and the
    standard-error type. Terms a fit could not identify show "n.i.".

    Parameters
    ----------
    results
        Fixed-effects results to put side by side.
    names
        One column name per result (default ``(1)``, ``(2)``, ...).
    stars
        Add significance stars to the estimates.
    digits
        Digits shown.

    Returns
    -------
    ComparisonTable
        ``.frame`` (a DataFrame), ``to_markdown()``, ``to_latex()``, ``to_html()``.
    """
    results = list(results)
    wrong = [type(r).__name__ for r in results if not isinstance(r, FixedEffectsResults)]
    if wrong or not results:
        raise SpecificationError(f"compare() takes fixed-effects results (bs.fixed_effects(...)); got {wrong or 'nothing'}")
    names = list(names) if names is not None else [f"({k + 1})" for k in range(len(results))]
    if len(names) != len(results):
        raise SpecificationError(f"compare(): {len(names)} names for {len(results)} results; give one name per result")
    terms = list(dict.fromkeys(t for r in results for t in [*r.params.index, *r.not_identified]))
    estimates = pd.DataFrame({n: r.params for n, r in zip(names, results)}).reindex(terms)
    errors = pd.DataFrame({n: r.std_errors for n, r in zip(names, results)}).reindex(terms)
    rows: dict[str, list[str]] = {}
    for term in terms:
        top, bottom = [], []
        for result in results:
            if term in result.not_identified:
                top.append("n.i.")
                bottom.append("")
            elif term in result.params.index:
                mark = _stars(result.pvalues[term]) if stars else ""
                top.append(f"{result.params[term]:.{digits}f}{mark}")
                bottom.append(f"({result.std_errors[term]:.{digits}f})")
            else:
                top.append("")
                bottom.append("")
        rows[term] = top
        rows[f"{term} "] = bottom
    footer = {
        "N": [str(r.n_rows) for r in results],
        "Teams": [str(r.n_teams) for r in results],
        "R-squared (within)": [f"{r.rsquared['within']:.3f}" for r in results],
        "Effects": [r.spec.effects for r in results],
        "Estimator": [r.spec.estimator for r in results],
        "SE": [f"cluster: {r.spec.cluster}" if r.spec.cluster else "conventional" for r in results],
    }
    frame = pd.DataFrame({**rows, **footer}, index=names).T
    return ComparisonTable(frame, estimates, errors)
