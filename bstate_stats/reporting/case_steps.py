"""The case study's steps: describe the panel, fixed effects, threshold, revenue, the Bayesian hierarchical model.

Each reads its settings from the config's shared sections (``[model]``,
``[fixed_effects]``, ``[hierarchical]``, ``[seeds]``) and returns its tables,
figures, headline values and report sections; :mod:`bstate_stats.reporting.run`
writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from bstate_stats.errors import ConfigError
from bstate_stats.models.correlations import within_team_correlations
from bstate_stats.models.fixed_effects import compare, fixed_effects, mundlak, team_effects_f_test
from bstate_stats.models.hierarchical import hierarchical
from bstate_stats.models.importance import importance_matrix, metrics_and_outcomes, relative_importance
from bstate_stats.models.outcomes import outcome_effects
from bstate_stats.models.revenue import bayesian_revenue, bayesian_revenue_lift, habit_to_revenue, revenue_model
from bstate_stats.models.threshold import threshold_model
from bstate_stats.reporting.steps import Section, StepContext, StepOutput, TableItem, register_step
from bstate_stats.schema.words import Words, words_for

CASE_STEPS = ("describe", "correlations", "importance", "metrics", "outcomes", "fixed_effects", "threshold", "revenue", "hierarchical")


def _fe_options(context: StepContext) -> dict:
    fe, seeds = context.config.fixed_effects, context.config.seeds
    return dict(cluster=fe.cluster or None, confidence_level=fe.confidence_level, bootstrap_reps=fe.bootstrap_reps, seed=seeds.bootstrap)  # "" (TOML has no null): conventional errors


@register_step("describe", description="describing the panel")
def describe_step(context: StepContext) -> StepOutput:
    """Trajectories of the three families, each satisfaction item at the threshold, habits improved, employees seeing better relationships."""
    panel, m = context.panel, context.config.model
    description = panel.describe(outcome=m.outcome, threshold=m.threshold)
    out = StepOutput(
        tables={
            "trajectories": description.trajectories.astype({"period": str}),
            "share_above": description.share_above.astype({"period": str}),
            "region_ranking": description.region_ranking,
        },
        figures={"trajectories": description.plot()},
    )
    share = None
    if panel.columns_with_role("habit_item"):
        improved = panel.habits_improved()
        out.tables["habits_improved"] = improved.astype({"baseline": str, "compare": str}).reset_index()
        share = float(improved.attrs["overall_share"])
    else:
        context.progress("  no habit items in the data: the share of habits improved is not computed")
    out.headline = {"threshold": m.threshold, "share_habits_improved": share, "n_rows": panel.n_rows, "n_teams": len(panel.teams), "n_regions": len(panel.regions)}
    out.sections.append(Section("The three families over time", figures=("trajectories",), tables=(TableItem("region_ranking", 2, percent=("share_above_last",)),)))
    _items_part(description, out)
    _employees_part(description, out)
    return out


def _items_part(description, out: StepOutput) -> None:
    """Each satisfaction item (the outcome and its ``{outcome}_*`` items) against the threshold: table, headline, section."""
    items, threshold = description.items, description.threshold
    out.tables["satisfaction_items"] = items
    out.headline |= {"items_last_period": str(items["last_period"].iloc[0]), "items_mean_last": dict(zip(items["item"], items["mean_last"].astype(float)))}
    sentences = [
        f"In {row.last_period}, {row.item} averages {row.mean_last:.2f} across the organisation (from {row.mean_first:.2f} in {row.first_period}); "
        f"{row.share_teams_above:.0%} of teams are at or above {threshold:g}."
        for row in items.itertuples()
    ]
    tables = [TableItem("satisfaction_items", 2, percent=("share_teams_above",))]
    if not description.items_by_region.empty:
        by_region = description.items_by_region
        out.tables["satisfaction_items_region"] = by_region
        every_item = by_region.groupby("region")["at_or_above"].all()
        out.headline |= {"items_best_region": dict(zip(items["item"], items["best_region"].astype(str))), "n_regions_all_items_above": int(every_item.sum())}
        sentences.append(f"{int(every_item.sum())} of {len(every_item)} regions average at or above {threshold:g} on every item: {', '.join(map(str, every_item[every_item].index)) or 'none'}.")
        tables.append(TableItem("satisfaction_items_region", 2, percent=("share_teams_above",)))
    out.sections.append(Section(f"Satisfaction items against {threshold:g}", sentences=tuple(sentences), tables=tuple(tables)))


def _employees_part(description, out: StepOutput) -> None:
    """The share of employees reporting improved relationships, by region and period: tables, figure, headline, section."""
    table = description.employees_improved
    if table.empty:
        return
    table = table.astype({"period": str})
    organisation = table[table["level"] == "organisation"]
    first, last = organisation.iloc[0], organisation.iloc[-1]
    out.tables["employees_improved"] = table
    out.figures["employees_improved"] = description.plot_employees_improved()
    out.headline |= {
        "employees_first_period": first["period"], "employees_last_period": last["period"],
        "employees_improved_first": float(first["share_improved"]), "employees_improved_last": float(last["share_improved"]),
    }
    sentence = f"In {last['period']}, {last['share_improved']:.0%} of the employees who answered report improved relationships between their team and others ({first['share_improved']:.0%} in {first['period']})."
    regions = table[(table["level"] == "region") & (table["period"] == last["period"])].sort_values("share_improved")
    tables: tuple[TableItem, ...] = ()
    if len(regions):
        low, high = regions.iloc[0], regions.iloc[-1]
        out.headline |= {"employees_improved_low": float(low["share_improved"]), "employees_improved_low_region": str(low["region"]),
                         "employees_improved_high": float(high["share_improved"]), "employees_improved_high_region": str(high["region"])}
        sentence += f" By region: from {low['share_improved']:.0%} ({low['region']}) to {high['share_improved']:.0%} ({high['region']})."
        start = table[(table["level"] == "region") & (table["period"] == first["period"])].set_index("region")["share_improved"]
        out.tables["employees_improved_region"] = regions.set_index("region").assign(share_improved_first=start).reset_index()[["region", "n_teams", "n_respondents", "share_improved_first", "share_improved"]]
        tables = (TableItem("employees_improved_region", 2, percent=("share_improved_first", "share_improved")),)
    out.sections.append(Section("Employees seeing better relationships", sentences=(sentence,), figures=("employees_improved",), tables=tables))


@dataclass(frozen=True)
class CorrelationOptions:
    """Options of a ``kind = "correlations"`` entry: team-bootstrap replicates, and whether period means are removed too."""

    bootstrap_reps: int = 999
    period_effects: bool = False

    def __post_init__(self) -> None:
        if self.bootstrap_reps < 2:
            raise ConfigError(f"[[analysis]] kind = \"correlations\": bootstrap_reps = {self.bootstrap_reps}: at least 2 (199 or more for a 95% interval)")


@register_step("correlations", description="within-team correlations of the three families", options=CorrelationOptions)
def correlations_step(context: StepContext) -> StepOutput:
    """How the outcome, habits and relationships move together within teams, same period and one period apart."""
    panel, m, options = context.panel, context.config.model, context.options
    columns = list(dict.fromkeys(c for c in (m.outcome, *m.drivers) if c in panel.data))
    fit = within_team_correlations(panel, columns, lags=(0, 1), bootstrap_reps=options.bootstrap_reps, period_effects=options.period_effects,
                                   seed=context.config.seeds.bootstrap, confidence_level=context.config.fixed_effects.confidence_level)
    table = fit.summary()
    lead = table[(table["lag"] == 0) & (table["x"] == m.outcome) & (table["y"] == m.drivers[0])]
    lagged = table[(table["lag"] == 1) & (table["x"] == m.drivers[0]) & (table["y"] == m.outcome)]
    headline: dict[str, float] = {}
    for prefix, rows in (("corr", lead), ("corr_lag1", lagged)):
        if len(rows):
            row = rows.iloc[0]
            headline |= {prefix: float(row["estimate"]), f"{prefix}_low": float(row["conf_low"]), f"{prefix}_high": float(row["conf_high"])}
    return StepOutput(
        tables={"correlations": table}, figures={"correlations": fit.plot()}, headline=headline | {"corr_pair": [m.outcome, m.drivers[0]], "corr_confidence_level": fit.confidence_level},
        sections=[Section("How the three families move together within teams", sentences=(fit.sentence(), *fit.notes()), tables=(TableItem("correlations", 3),), figures=("correlations",))],
    )


@dataclass(frozen=True)
class ImportanceOptions:
    """Options of a ``kind = "importance"`` entry: the drivers to rank (default: the model's drivers and every operational metric), effects, replicates, top k."""

    drivers: list = field(default_factory=list)
    effects: str = "twoway"
    bootstrap_reps: int = 999
    top_k: int = 1
    targets: dict = field(default_factory=dict)  # {metric: target} or {metric: [target, "at_most"]}: adds the importance x performance matrix


def _words(context: StepContext) -> Words:
    """How sentences name the run's outcome (label and unit from the schema, the scale from the panel)."""
    outcome = context.config.model.outcome
    return words_for(outcome, context.panel.scales.get(outcome, "numeric"))


@register_step("importance", description="which drivers and metrics matter (relative importance)", options=ImportanceOptions)
def importance_step(context: StepContext) -> StepOutput:
    """Shapley (LMG) shares of the outcome's within-team R²: habits, relationships and the internal metrics ranked, with intervals."""
    panel, m, options = context.panel, context.config.model, context.options
    drivers = list(options.drivers) or list(dict.fromkeys([*m.drivers, *(c for c in panel.columns_with_role("operational") if c != m.outcome)]))
    fit = relative_importance(panel, m.outcome, drivers, effects=options.effects, bootstrap_reps=options.bootstrap_reps, top_k=options.top_k, seed=context.config.seeds.bootstrap,
                              confidence_level=context.config.fixed_effects.confidence_level)
    table = fit.summary()
    out = StepOutput(
        tables={"importance": table}, figures={"importance": fit.plot()}, headline={"importance_top": str(table["term"].iloc[0]), "importance_top_share": float(table["share_of_r2"].iloc[0]),
                                                                                    "importance_r2": fit.r2_within, "importance_top_prob": float(table["prob_top_k"].iloc[0])},
        sections=[Section(f"Which drivers and metrics matter for {_words(context).noun}", sentences=(fit.sentence(), *fit.notes()), tables=(TableItem("importance", 3, percent=("share_of_r2", "prob_top_k")),), figures=("importance",))],
    )
    if options.targets:
        matrix = importance_matrix(fit, panel, {name: tuple(goal) if isinstance(goal, list) else goal for name, goal in options.targets.items()})
        out.tables["importance_matrix"], out.figures["importance_matrix"] = matrix.summary(), matrix.plot()
        out.sections.append(Section("Importance x performance: where effort pays first", sentences=(matrix.sentence(), *matrix.notes()), tables=(TableItem("importance_matrix", 3, percent=("share_of_r2",)),), figures=("importance_matrix",)))
    return out


@dataclass(frozen=True)
class MetricsOptions:
    """Options of a ``kind = "metrics"`` entry: the customer outcomes (default: the model's), the internal metrics (default: every operational column that is not an outcome), controls, effects, replicates."""

    outcomes: list = field(default_factory=list)
    metrics: list = field(default_factory=list)
    controls: list = field(default_factory=list)
    effects: str = "twoway"
    bootstrap_reps: int = 999


@register_step("metrics", description="do the internal metrics move the customer outcomes?", options=MetricsOptions)
def metrics_step(context: StepContext) -> StepOutput:
    """One within-team regression per outcome and internal metric: the effect of +1 within-team sd of the metric, in the outcome's units."""
    panel, m, options = context.panel, context.config.model, context.options
    outcomes = list(options.outcomes) or [m.outcome]
    metrics = list(options.metrics) or [c for c in panel.columns_with_role("operational") if c not in outcomes]
    if not metrics:  # a panel without internal metrics: said, not failed (the step is in the default list)
        return StepOutput(sections=[Section("Do the internal metrics move the customer outcomes?", sentences=("The data hold no internal (operational) metrics to relate to the outcomes.",))])
    fit = metrics_and_outcomes(panel, outcomes, metrics, controls=options.controls, effects=options.effects, confidence_level=context.config.fixed_effects.confidence_level,
                               bootstrap_reps=options.bootstrap_reps, seed=context.config.seeds.bootstrap)
    return StepOutput(
        tables={"metrics_and_outcomes": fit.summary()}, figures={"metrics_and_outcomes": fit.plot()}, headline=fit.headline(),
        sections=[Section(fit.title, sentences=(fit.sentence(), *fit.notes()), tables=(TableItem("metrics_and_outcomes", 4),), figures=("metrics_and_outcomes",))],
    )


@dataclass(frozen=True)
class OutcomesOptions:
    """Options of a ``kind = "outcomes"`` entry.

    ``outcomes``: ``{column: {target, direction, unit_value, volume}}`` (default: every count declared out of an
    exposure, such as customers lost of customers served, and every cost, without targets); ``controls``: drivers
    held fixed (default: the model's other drivers; ``[]``: none); ``bayesian``: outcomes also fitted by the hierarchical engine
    for P(meeting the target); ``periods_per_year``; ``bootstrap_reps``.
    """

    outcomes: dict = field(default_factory=dict)
    controls: list | None = None
    bayesian: list = field(default_factory=list)
    periods_per_year: int = 12
    bootstrap_reps: int = 999


@register_step("outcomes", description="habits and every outcome: churn, attrition, absence, cost", options=OutcomesOptions)
def outcomes_step(context: StepContext) -> StepOutput:
    """One fixed-effects fit per outcome in its family: the habit change's effect in the outcome's units, per year and in money."""
    panel, m, options = context.panel, context.config.model, context.options
    chosen = dict(options.outcomes) or {c: {} for c in panel.columns_with_role("event_count", "cost")}
    if not chosen:  # a panel without further outcomes: said, not failed (the step is in the default list)
        return StepOutput(sections=[Section("Habits and further outcomes", sentences=("The data hold no further outcomes (churn, attrition, absence or cost counts) to relate to habits.",))])
    if options.controls is not None and not isinstance(options.controls, list):
        raise ConfigError(f"outcomes: controls = {options.controls!r}: a list of driver columns")
    controls = list(m.drivers[1:]) if options.controls is None else list(options.controls)
    fit = outcome_effects(
        panel, chosen, driver=m.drivers[0], controls=controls, change=m.habit_change, periods_per_year=options.periods_per_year, confidence_level=context.config.fixed_effects.confidence_level,
        bootstrap_reps=options.bootstrap_reps, bayesian=list(options.bayesian), target_prob=m.target_prob, random_seed=context.config.seeds.hierarchical,
    )
    return StepOutput(
        tables={"outcome_effects": fit.summary(), "outcome_effects_brief": fit.brief()}, figures={"outcome_effects": fit.plot()}, headline=fit.headline(),
        sections=[Section(fit.title, sentences=(fit.sentence(), *fit.notes()), tables=(TableItem("outcome_effects_brief"),), figures=("outcome_effects",))],
    )


@register_step("fixed_effects", description="fixed effects within teams")
def fixed_effects_step(context: StepContext) -> StepOutput:
    """Two-way fixed effects, habits at t-1, the exclusion ledger and the FE-versus-RE tests."""
    panel, m, options = context.panel, context.config.model, _fe_options(context)
    fe = fixed_effects(panel, m.outcome, m.drivers, effects=context.config.fixed_effects.effects, **options)
    lagged = fixed_effects(panel, m.outcome, m.drivers, effects=context.config.fixed_effects.effects, lags={m.drivers[0]: 1}, **options)
    with_periods = context.config.fixed_effects.effects in ("twoway", "period")  # the tests carry the model's period effects
    tests = pd.concat(
        [mundlak(panel, m.outcome, m.drivers, period_effects=with_periods).to_frame(), team_effects_f_test(panel, m.outcome, m.drivers, period_effects=with_periods).to_frame()]
    ).astype({"df": str})
    row, words = fe.effect(m.drivers[0], m.habit_change), _words(context)
    sentence = (
        f"Within a team, +{m.habit_change:g} {m.drivers[0]} points go with {words.amount(row['estimate'])} "
        f"({context.config.fixed_effects.confidence_level:.0%} interval {words.number(row['conf_low'])} to {words.number(row['conf_high'])}; {fe.n_rows} rows, {fe.n_teams} teams)."
    )
    return StepOutput(
        tables={"fixed_effects": fe.summary(), "fixed_effects_lagged": lagged.summary(), "fixed_effects_ledger": fe.ledger.summary(), "specification_tests": tests},
        figures={"fixed_effects": fe.plot(change=m.habit_change)},
        texts={"fixed_effects_compare.md": compare([fe, lagged], names=["same period", "habits at t-1"]).to_markdown() + "\n"},
        headline={
            "habit_change": m.habit_change, "threshold": m.threshold, "target_prob": m.target_prob,
            "fe_effect": float(row["estimate"]), "fe_conf_low": float(row["conf_low"]), "fe_conf_high": float(row["conf_high"]),
            "fe_confidence_level": context.config.fixed_effects.confidence_level, "converged": None, "outcome_words": words.to_dict(),
        },
        sections=[
            Section("Rows excluded from the fixed-effects model", tables=(TableItem("fixed_effects_ledger"),)),
            Section(
                "Fixed effects: the habit effect within teams", sentences=(sentence,), tables=(TableItem("fixed_effects", 4), TableItem("specification_tests", 4)),
                figures=("fixed_effects",), markdown=("fixed_effects_compare.md",),
            ),
        ],
    )


@register_step("threshold", description="chance of reaching the threshold (fixed effects)")
def threshold_step(context: StepContext) -> StepOutput:
    """Change in P(outcome at or above the threshold) per habit change: linear probability model and conditional logit."""
    panel, m = context.panel, context.config.model
    fit = threshold_model(panel, m.outcome, [m.drivers[0]], threshold=m.threshold, change=m.habit_change, effects=context.config.fixed_effects.effects, **_fe_options(context))
    words = _words(context)
    title = f"Change in P({words.noun} at or above {words.level(m.threshold)}) per +{m.habit_change:g} habit points"
    return StepOutput(tables={"threshold": fit.summary()}, sections=[Section(title, sentences=tuple(fit.notes()), tables=(TableItem("threshold", 3),))])


@register_step("revenue", description="revenue lift and the habit -> revenue chain")
def revenue_step(context: StepContext) -> StepOutput:
    """The revenue lift of a period at or above the threshold, and the annual lift of a habit change (team bootstrap)."""
    panel, m, config = context.panel, context.config.model, context.config
    revenue = revenue_model(panel, satisfaction=m.outcome, threshold=m.threshold, **_fe_options(context))
    chain = habit_to_revenue(
        panel, habit_change=m.habit_change, satisfaction=m.outcome, habit=m.drivers[0], controls=tuple(m.drivers[1:]), threshold=m.threshold,
        bootstrap_reps=config.fixed_effects.chain_bootstrap_reps, seed=config.seeds.bootstrap, progress=False,
    )
    low, high = chain.interval
    return StepOutput(
        tables={"revenue": revenue.summary(), "habit_to_revenue": chain.summary()},
        headline={"chain_lift": chain.estimate, "chain_conf_low": low, "chain_conf_high": high, "revenue_lift_pct": float(revenue.lift["estimate"] * 100)},
        sections=[Section("Revenue lift (fixed effects)", sentences=tuple(chain.notes()), tables=(
            TableItem("revenue", 4, rows=((revenue.summary()["term"].iloc[-1], "percent"),)),
            TableItem("habit_to_revenue", 3, rows=(("annual revenue lift", "currency"), *((label, "percent") for label in chain.components if label.startswith("share")))),
        ))],
    )


@register_step("hierarchical", description="Bayesian hierarchical model")
def hierarchical_step(context: StepContext) -> StepOutput:
    """The Bayesian models: effects by level, P(at or above the threshold), the habit change needed, and the revenue lift from a revenue model of its own."""
    panel, m, h = context.panel, context.config.model, context.config.hierarchical
    context.progress(f"  {h.sampler}, {h.chains} chains x {h.draws} draws")
    options = dict(sampler=h.sampler, chains=h.chains, draws=h.draws, tune=h.tune, target_accept=h.target_accept, credible_level=h.credible_level, team_effects=h.team_effects, progress=False)
    fit = hierarchical(
        panel, m.outcome, m.drivers, random_seed=context.config.seeds.hierarchical, family=h.family, varying=tuple(h.varying), period_effects=h.period_effects,
        region_effects=h.region_effects, target=m.threshold, priors=h.priors or None, **options,
    )
    required_teams = fit.required_change(m.target_prob)
    required = pd.concat([fit.required_change(m.target_prob, estimand="new_team"), required_teams, fit.required_change(m.target_prob, level="region")], ignore_index=True)
    curve = fit.prob_curve()
    out = StepOutput(
        tables={
            "bayes_summary": fit.summary(), "bayes_diagnostics": fit.diagnostics.summary(), "bayes_region_effects": fit.habit_effects("region"),
            "bayes_team_effects": fit.habit_effects("team"), "prob_curve": curve, "required_change": required,
        },
        figures={"bayes_region_effects": fit.plot_effects("region"), "ppc": fit.plot_ppc(), "prob_curve": fit.plot_prob_curve(prob=m.target_prob, curve=curve, required=required_teams)},
        files={"posterior/hierarchical.nc": fit.save},
        headline=_bayes_headline(fit, required, m.habit_change) | {"target_prob": m.target_prob, "outcome_words": _words(context).to_dict()},
        status="ok" if fit.converged else "not_converged",
    )
    out.sections = [
        Section("Bayesian hierarchical model", sentences=(fit.diagnostics.message(), *fit.notes()[1:3]), tables=(TableItem("bayes_diagnostics"), TableItem("bayes_summary")), figures=("bayes_region_effects", "ppc")),
        Section(f"Chance of {_words(context).noun} at or above {_words(context).level(m.threshold)}", sentences=(fit.estimand_note(),), figures=("prob_curve",), tables=(TableItem("required_change", 2),)),
    ]
    if "revenue" in panel.data:
        _revenue_part(context, fit, out, options)
    return out


def _revenue_part(context: StepContext, fit, out: StepOutput, options: dict) -> None:
    """Revenue model of its own, the chain over paired draws, and their tables, figure, headline and section."""
    m = context.config.model
    revenue_fit = bayesian_revenue(context.panel, satisfaction=m.outcome, threshold=m.threshold, random_seed=context.config.seeds.hierarchical + 1, **options)
    lift = bayesian_revenue_lift(fit, revenue_fit, m.habit_change)
    by_region = bayesian_revenue_lift(fit, revenue_fit, m.habit_change, by="region")
    out.tables |= {"revenue_lift": lift.summary(), "revenue_lift_region": by_region.summary(), "bayes_revenue_summary": revenue_fit.summary(), "bayes_revenue_diagnostics": revenue_fit.diagnostics.summary()}
    out.figures["revenue_lift"] = lift.plot()
    out.files["posterior/revenue.nc"] = revenue_fit.save
    out.headline |= lift.headline() | {"revenue_converged": revenue_fit.converged}
    if not revenue_fit.converged:
        out.status = "not_converged"
    out.sections.append(
        Section("Revenue lift (Bayesian)", sentences=(lift.sentence(), *lift.notes(), f"Revenue model: {revenue_fit.diagnostics.message()}"), figures=("revenue_lift",), tables=(TableItem("revenue_lift_region", 2, currency=("mean", "median", "hdi_low", "hdi_high")), TableItem("bayes_revenue_summary")))
    )


def _bayes_headline(fit, required: pd.DataFrame, habit_change: float) -> dict:
    """Headline values: the effect, the change a typical (new) team needs, the change every team needs for the organisation's average."""
    typical, everyone = required.iloc[0], required.iloc[1]
    effect = fit.habit_effects("population").iloc[0]
    return {
        "habit_change": habit_change,
        "threshold": fit.spec.target,
        "converged": fit.converged,
        "convergence_message": fit.diagnostics.message(),
        "bayes_effect": effect["mean"],
        "bayes_effect_low": effect["hdi_low"],
        "bayes_effect_high": effect["hdi_high"],
        "credible_level": fit.credible_level,
        "required_estimand": "a new team at today's average habit level (team and region effects drawn from their spreads)",
        "required_change": typical["required_change"],
        "required_low": typical["hdi_low"],
        "required_high": typical["hdi_high"],
        "required_reachable": bool(typical["reachable"]),
        "required_change_all_teams": everyone["required_change"],
        "required_all_teams_low": everyone["hdi_low"],
        "required_all_teams_high": everyone["hdi_high"],
        "prob_now": float(fit.prob_target(change=0).iloc[0]["mean"]),
        "prob_after_change": float(fit.prob_target(change=habit_change).iloc[0]["mean"]),
        "sampling_seconds": fit.meta["sampling_seconds"],
    }
