"""The report's executive summary, written from a run's headline numbers (one function, tested; the report only displays it)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bstate_stats.schema.words import Words, words_for

RED, GREEN = "#b03a2e", "#2e7d32"


@dataclass(frozen=True)
class ExecutiveSummary:
    """Banners (HTML, one per Bayesian model checked) and the summary's bullet points (Markdown)."""

    banners: tuple[str, ...]
    lines: tuple[str, ...]

    @property
    def markdown(self) -> str:
        """The bullet points as one Markdown block (a sentence saying so when the run reports no headline numbers)."""
        return "\n".join(self.lines) if self.lines else "The steps of this run report no headline numbers; see the sections below."


def money(value: float) -> str:
    """Currency without cents, the dollar sign escaped (a bare $ opens a math span in Markdown).

    Parameters
    ----------
    value
        An amount of money.

    Returns
    -------
    str
        E.g. ``\\$148,556``.
    """
    return f"\\${value:,.0f}"


def _banner(colour: str, text: str) -> str:
    return f'<div style="background:{colour};color:white;padding:10px;font-weight:bold">{text}</div>'


def convergence_banners(h: Mapping[str, Any]) -> tuple[str, ...]:
    """A red banner for every Bayesian model that failed its checks, a green one when the satisfaction model passed them.

    Parameters
    ----------
    h
        The run's headline numbers (``converged``, ``convergence_message``, ``revenue_converged`` when the Bayesian step ran).

    Returns
    -------
    tuple of str
        HTML banners; empty when no Bayesian model was fitted.
    """
    banners = []
    if h.get("converged") is False:
        banners.append(_banner(RED, f"Bayesian model did NOT converge: {h['convergence_message']}. Its numbers below must not be used."))
    elif h.get("converged") is True:
        banners.append(_banner(GREEN, f"Bayesian model {h['convergence_message']}"))
    if h.get("revenue_converged") is False:
        banners.append(_banner(RED, "Bayesian revenue model did NOT converge: the revenue lift below must not be used (see its section)."))
    return tuple(banners)


def executive_summary(h: Mapping[str, Any]) -> ExecutiveSummary:
    """The executive summary of a run from its ``headline.json``.

    Parameters
    ----------
    h
        The run's headline numbers (keys written by the analysis steps; a step that did not run adds none).

    Returns
    -------
    ExecutiveSummary
        Convergence banners and bullet points, every number taken from ``h``.
    """
    lines = [*_outcome_lines(h), *_fixed_effects_lines(h), *_bayes_lines(h), *_revenue_lines(h), *_item_lines(h), *_data_lines(h), *_employee_lines(h), *_correlation_lines(h), *_importance_lines(h), *_metrics_lines(h), *_outcome_effect_lines(h)]
    return ExecutiveSummary(convergence_banners(h), tuple(lines))


def _outcome_lines(h: Mapping[str, Any]) -> list[str]:
    if "outcome_words" not in h:
        return []
    words = Words.from_dict(h["outcome_words"])
    return [f"- Outcome analysed: **{words.noun}** (column {words.column}, scale {words.scale})."]


def _fixed_effects_lines(h: Mapping[str, Any]) -> list[str]:
    if "fe_effect" not in h:
        return []
    words = Words.from_dict(h.get("outcome_words"))
    return [
        f"- Within a team, **+{h['habit_change']:g} habit points** go with **{words.amount(h['fe_effect'])}** "
        f"({h['fe_confidence_level']:.0%} confidence interval {words.number(h['fe_conf_low'])} to {words.number(h['fe_conf_high'])}; fixed effects)."
    ]


def _bayes_lines(h: Mapping[str, Any]) -> list[str]:
    if h.get("converged") is None:
        return []
    words = Words.from_dict(h.get("outcome_words"))
    target = f"{words.noun} at or above {words.level(h['threshold'])}"
    if not h["required_reachable"]:
        return [f"- A {h['target_prob']:.0%} chance of {target} is not reachable within the habit scale."]
    lines = [
        f"- A typical team (a new team at today's average habit level) needs **+{h['required_change']:.1f} habit points** "
        f"({h['credible_level']:.0%} interval {h['required_low']:.1f} to {h['required_high']:.1f}) for a **{h['target_prob']:.0%} chance** "
        f"of {target} in a period."
    ]
    if math.isfinite(h.get("required_change_all_teams", float("nan"))):
        lines.append(
            f"- For this organisation's teams to reach that chance on average, every team would need +{h['required_change_all_teams']:.1f} points "
            f"({h['required_all_teams_low']:.1f} to {h['required_all_teams_high']:.1f}): lagging regions start far below. "
            f"Today the average team has a {h['prob_now']:.0%} chance."
        )
    return lines


def _revenue_lines(h: Mapping[str, Any]) -> list[str]:
    lines = []
    if "revenue_lift_mean" in h:
        lines.append(
            f"- Expected annual revenue lift of +{h['habit_change']:g} habit points for the organisation: "
            f"**{money(h['revenue_lift_mean'])}** ({h['credible_level']:.0%} interval {money(h['revenue_lift_low'])} to "
            f"{money(h['revenue_lift_high'])}; P(lift > 0) = {h['revenue_lift_prob_positive']:.2f})."
        )
    if "chain_lift" in h:
        lines.append(
            f"- A period at or above {h['threshold']:g} brings **{h['revenue_lift_pct']:.0f}%** more revenue for the same team; "
            f"the fixed-effects chain puts the annual lift at {money(h['chain_lift'])} ({money(h['chain_conf_low'])} to {money(h['chain_conf_high'])})."
        )
    return lines


def _data_lines(h: Mapping[str, Any]) -> list[str]:
    if "n_rows" not in h:
        return []
    share = h.get("share_habits_improved")
    improved = "No habit items in the data" if share is None else f"{share:.0%} of habit items improved between each team's first and last period"
    return [f"- {improved}. Data: {h['n_rows']} team-periods, {h['n_teams']} teams in {h['n_regions']} regions."]


def _item_lines(h: Mapping[str, Any]) -> list[str]:
    if "items_mean_last" not in h:
        return []
    means = ", ".join(f"{item} {mean:.2f}" for item, mean in h["items_mean_last"].items())
    line = f"- Satisfaction in {h['items_last_period']} (organisation means): {means}; threshold {h['threshold']:g}."
    if "items_best_region" in h:
        best = list(h["items_best_region"].values())
        leader = max(set(best), key=best.count)
        line += f" {leader} is the best region on {best.count(leader)} of {len(best)} items; {h['n_regions_all_items_above']} of {h['n_regions']} regions average at or above {h['threshold']:g} on every item."
    return [line]


def _employee_lines(h: Mapping[str, Any]) -> list[str]:
    if "employees_improved_last" not in h:
        return []
    line = f"- {h['employees_improved_last']:.0%} of employees report better relationships between their team and others in {h['employees_last_period']} ({h['employees_improved_first']:.0%} in {h['employees_first_period']})"
    if "employees_improved_low" in h:
        line += f"; by region {h['employees_improved_low']:.0%}–{h['employees_improved_high']:.0%} ({h['employees_improved_low_region']} to {h['employees_improved_high_region']})"
    return [line + "."]


def _correlation_lines(h: Mapping[str, Any]) -> list[str]:
    if "corr" not in h:
        return []
    outcome, habit = h["corr_pair"]
    line = f"- Within teams, {outcome} and {habit} move together: r = {h['corr']:.2f} ({h['corr_confidence_level']:.0%} interval {h['corr_low']:.2f} to {h['corr_high']:.2f})"
    if "corr_lag1" in h:
        line += f"; {habit} one period earlier: r = {h['corr_lag1']:.2f} ({h['corr_lag1_low']:.2f} to {h['corr_lag1_high']:.2f})"
    return [line + "."]


def _importance_lines(h: Mapping[str, Any]) -> list[str]:
    if "importance_top" not in h:
        return []
    return [
        f"- Of what the drivers and metrics explain of {Words.from_dict(h.get('outcome_words')).noun} within teams (R² = {h['importance_r2']:.2f}), {words_for(h['importance_top'], 'numeric').noun} accounts for the largest part "
        f"({h['importance_top_share']:.0%}; first in {h['importance_top_prob']:.0%} of bootstrap replicates)."
    ]


def _metrics_lines(h: Mapping[str, Any]) -> list[str]:
    if "metrics_moving" not in h:
        return []
    noun = lambda column: words_for(column, "numeric").noun  # the label only: units play no part here
    said = [f"{noun(outcome)}: {', '.join(noun(m) for m in moving) or 'none'}" for outcome, moving in h["metrics_moving"].items()]
    return [f"- Internal metrics that move the customer outcomes within teams (interval excluding zero): {'; '.join(said)}."]


def _outcome_effect_lines(h: Mapping[str, Any]) -> list[str]:
    """One bullet for the further outcomes (churn, attrition, absence, cost): each one's change, interval and money, as its results say it."""
    if "outcome_effects" not in h:
        return []
    return [f"- {h['outcome_change']}, within teams: " + " ".join(effect["said"] for effect in h["outcome_effects"])]
