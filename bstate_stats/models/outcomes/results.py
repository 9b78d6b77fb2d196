"""Results of :func:`~bstate_stats.models.outcomes.outcome_effects`: one table, one figure and a sentence per outcome, in each outcome's words."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bstate_stats.models.outcomes.spec import OutcomeSpec
from bstate_stats.results.base import Results
from bstate_stats.schema.words import Words, words_for

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from bstate_stats.models.fixed_effects import FixedEffectsResults

COLUMNS = [
    "outcome", "family", "exposure", "driver", "change", "level", "estimate", "conf_low", "conf_high", "ratio", "p_value", "interval",
    "target", "direction", "prob_now", "prob_after", "prob_low", "prob_high", "target_prob", "required_change", "required_low", "required_high", "converged",
    "per_year", "per_year_low", "per_year_high", "unit_value", "money", "money_low", "money_high", "bayes_money", "bayes_money_low", "bayes_money_high", "n_rows", "n_excluded", "n_teams",
]


@dataclass(frozen=True)
class OutcomeEffectsResults(Results):
    """Effects of one driver change on several outcomes, each in its own units, with yearly volumes and money.

    Attributes
    ----------
    table
        One row per outcome (see :meth:`summary`).
    specs
        Each outcome's :class:`~bstate_stats.models.outcomes.spec.OutcomeSpec`.
    scales
        Scale of every panel column (for the words).
    driver, change, confidence_level
        What moved, by how much, and the level of the intervals.
    fits, bayes
        The fixed-effects fit of every outcome; the hierarchical fit of those with a target when asked for.
    """

    table: pd.DataFrame
    specs: dict[str, OutcomeSpec]
    scales: dict[str, str]
    driver: str
    change: float
    confidence_level: float
    fits: dict[str, FixedEffectsResults] = field(default_factory=dict)
    bayes: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"What {self.change_words} do to each outcome (within teams)"

    def words(self, outcome: str) -> Words:
        """How sentences name ``outcome``'s level (the rate for a count out of an exposure)."""
        return self.specs[outcome].words(self.scales.get(outcome, "numeric"))

    def summary(self) -> pd.DataFrame:
        """One row per outcome.

        ``level`` is the outcome's current level (a rate for counts with an exposure); ``estimate, conf_low,
        conf_high`` the change of that level after the driver change (``ratio``: the rate or cost ratio);
        ``prob_now, prob_after, prob_low, prob_high`` P(a typical team meets the target in a period) from the
        hierarchical fit (when asked for), with the driver change that makes it ``target_prob`` (``required_*``); ``per_year*`` the yearly change in events (rates), in total cost (costs)
        or in the outcome times its volume (linear); ``money*`` that change valued at ``unit_value``, positive when
        the outcome moves the better way; ``bayes_money*`` the same from the hierarchical fit (mean and credible
        interval of the ratio of expected events over the last year's rows); ``n_rows, n_excluded, n_teams`` the counts behind each fit.
        """
        return self.table

    def notes(self) -> list[str]:
        return [
            f"Two-way fixed effects per outcome: Poisson pseudo-ML for counts (rates when counted out of an exposure), least squares on the log for costs, "
            f"linear otherwise; {self.confidence_level:.0%} intervals clustered by team (wild cluster bootstrap with fewer than 30 teams). "
            "Changes are stated at each outcome's current level; yearly figures apply the ratio to the last year's events or costs. Within-team associations, not causal effects.",
            *(f"{self.words(o).noun[:1].upper()}{self.words(o).noun[1:]} (hierarchical model): {b.estimand_note()}" for o, b in self.bayes.items()),
        ]

    @property
    def change_words(self) -> str:
        """The driver change as sentences say it: "+10 habit points"."""
        noun = words_for(self.driver, "numeric").noun.removesuffix(" index")
        return f"+{self.change:g} {noun} points"

    def brief(self) -> pd.DataFrame:
        """The table a reader scans: one row per outcome, every number in its own words (levels, changes, P(target), a year, money)."""
        rows = []
        for row in self.table.itertuples():
            words = self.words(row.outcome)
            prob = f"{row.prob_now:.2f} -> {row.prob_after:.2f}" if np.isfinite(row.prob_after) else ""
            side = "<=" if row.direction == "at_most" else ">="
            rows.append(
                {
                    "outcome": words.noun, "now": words.level(row.level), f"change with {self.change_words}": words.number(row.estimate),
                    f"{self.confidence_level:.0%} interval": f"{words.number(row.conf_low)} to {words.number(row.conf_high)}",
                    "unit": words.unit_name, "target": "" if pd.isna(row.target) else f"{side} {words.level(row.target)}", "P(target) now -> after": prob,
                    "a year": self._yearly_words(row), "worth a year": "" if not np.isfinite(row.money) else f"{row.money:,.0f} ({row.money_low:,.0f} to {row.money_high:,.0f})",
                }
            )
        return pd.DataFrame(rows)

    @staticmethod
    def _yearly_words(row: Any) -> str:
        """The yearly change with what it counts: "-3,550 customers lost", "-143,837 in total"."""
        if not np.isfinite(row.per_year):
            return ""
        what = words_for(row.outcome, "count").noun if row.family == "poisson" else "in total"
        return f"{row.per_year:+,.0f} {what}"

    def outcome_sentence(self, row: Any) -> str:
        """One outcome's effect, its interval, its yearly change and money, and its target probability, in words."""
        words = self.words(row.outcome)
        said = (
            f"{words.noun[:1].upper()}{words.noun[1:]}: {words.amount(row.estimate)} from {words.level(row.level)} "
            f"({self.confidence_level:.0%} interval {words.number(row.conf_low)} to {words.number(row.conf_high)}"
        )
        said += f"; x{row.ratio:.3f} of the {'rate' if row.family == 'poisson' else 'amount'})" if np.isfinite(row.ratio) else ")"
        if row.family == "poisson" and np.isfinite(row.per_year):
            said += f", {abs(row.per_year):,.0f} {'fewer' if row.per_year < 0 else 'more'} {words_for(row.outcome, 'count').noun} a year"
        if np.isfinite(row.money):
            said += f", worth {row.money:,.0f} a year ({row.money_low:,.0f} to {row.money_high:,.0f})"
        if np.isfinite(row.prob_after):
            side = "at or below" if row.direction == "at_most" else "at or above"
            flag = "" if row.converged else " (NOT converged: do not use)"
            said += f"; P({words.noun} {side} {words.level(row.target)}) for a typical team: {row.prob_now:.2f} now, {row.prob_after:.2f} after ({row.prob_low:.2f} to {row.prob_high:.2f}){flag}"
            if np.isfinite(row.required_change):
                said += f", {row.target_prob:.0%} with +{row.required_change:.1f} points ({row.required_low:.1f} to {row.required_high:.1f})"
            if np.isfinite(row.bayes_money):
                said += f"; by the same model the change is worth {row.bayes_money:,.0f} a year ({row.bayes_money_low:,.0f} to {row.bayes_money_high:,.0f})"
        return said + "."

    def sentence(self) -> str:
        """Every outcome's sentence, after what changed."""
        lines = [self.outcome_sentence(row) for row in self.table.itertuples()]
        return f"With {self.change_words}, within teams: " + " ".join(lines)

    def headline(self) -> dict[str, Any]:
        """Per outcome, in order: the change of its level, its interval, the money a year (where valued) and the sentence; the driver change."""
        out = []  # a list: the outcomes keep their order in a headline written with sorted keys
        for row in self.table.itertuples():
            out.append({
                "outcome": row.outcome, "estimate": float(row.estimate), "conf_low": float(row.conf_low), "conf_high": float(row.conf_high),
                "money": None if not np.isfinite(row.money) else float(row.money), "said": self.outcome_sentence(row),
            })
        return {"outcome_effects": out, "outcome_change": self.change_words, "outcome_money_total": float(np.nansum(self.table["money"])) if self.table["money"].notna().any() else None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title, "driver": self.driver, "change": self.change, "confidence_level": self.confidence_level,
            "summary": json.loads(self.table.to_json(orient="records")), "notes": self.notes(), "headline": self.headline(),
        }

    def plot(self) -> Figure:
        """Each outcome's change relative to its current level (%), with its interval; the better direction in colour."""
        from bstate_stats.plots.outcomes import plot_outcome_effects

        relative = self.table.assign(
            relative=self.table["estimate"] / self.table["level"] * 100,
            relative_low=self.table["conf_low"] / self.table["level"] * 100,
            relative_high=self.table["conf_high"] / self.table["level"] * 100,
            noun=[self.words(o).noun for o in self.table["outcome"]],
            better=[(r.estimate < 0) == self.specs[r.outcome].lower_is_better and (r.conf_high < 0 or r.conf_low > 0) for r in self.table.itertuples()],
        )
        return plot_outcome_effects(relative, title=self.title, confidence_level=self.confidence_level)
