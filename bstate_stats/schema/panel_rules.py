"""Rules that span a whole panel: one region per team, one period grid, enough periods, coverage."""

from __future__ import annotations

import pandas as pd

from bstate_stats.schema.periods import PeriodFormat, grid_step, team_gaps
from bstate_stats.schema.report import ValidationIssue, ValidationReport
from bstate_stats.schema.table_rules import CheckedTable

MIN_PERIODS = 2


def check_regions(table: CheckedTable, report: ValidationReport) -> None:
    """Error for every team recorded in more than one region."""
    frame = table.frame.dropna(subset=["team", "region"])
    counts = frame.groupby("team")["region"].nunique()
    for team in counts[counts > 1].index:
        rows = frame.index[frame["team"] == team]
        regions = sorted(frame.loc[rows, "region"].unique())
        report.add(
            ValidationIssue.build(
                "error", table.source, "region", "one region per team",
                f"team {team!r} switches region ({', '.join(map(str, regions))}); teams must be nested in one region",
                rows, frame.loc[rows, "region"].tolist(), table.row_label,
            )
        )


def common_format(tables: list[CheckedTable], report: ValidationReport) -> PeriodFormat | None:
    """The period format shared by all tables; an error when tables disagree."""
    formats = {t.source: t.period_format for t in tables if t.period_format is not None}
    distinct = set(formats.values())
    if len(distinct) > 1:
        described = "; ".join(f"{src}: {fmt.describe()}" for src, fmt in formats.items())
        report.add(ValidationIssue.build("error", ", ".join(formats), "period", "one period format", f"tables write periods differently ({described})"))
        return None
    return next(iter(distinct), None)


def check_grid(keys: pd.DataFrame, fmt: PeriodFormat, source: str, report: ValidationReport) -> int:
    """Spacing, too few periods, single-period teams and gaps; returns the grid step."""
    keys = keys.dropna(subset=["team", "_t"])
    ordinals = keys["_t"].astype("int64")
    step = grid_step(ordinals.to_numpy())
    n_periods = ordinals.nunique()
    if n_periods < MIN_PERIODS:
        report.add(
            ValidationIssue.build(
                "error", source, "period", f"at least {MIN_PERIODS} periods",
                f"the panel has {n_periods} distinct period(s); within-team models need at least {MIN_PERIODS}",
            )
        )
        return step
    per_team = ordinals.groupby(keys["team"]).nunique()
    single = per_team[per_team == 1].index.tolist()
    if single:
        report.add(
            ValidationIssue.build(
                "warning", source, "team", "more than one period per team",
                "teams observed in a single period add nothing to within-team estimates",
                single, single, "team",
            )
        )
    gaps = team_gaps(keys["team"], ordinals, step)
    if gaps:
        described = [f"{team}: {', '.join(str(fmt.label(t)) for t in missing[:4])}{' ...' if len(missing) > 4 else ''}" for team, missing in gaps.items()]
        report.add(
            ValidationIssue.build(
                "warning", source, "period", "no gaps in periods",
                f"teams with missing periods on the {step}-step grid (lags across a gap are not formed)",
                list(gaps), described, "team",
            )
        )
    return step


def check_coverage(left: CheckedTable, right: CheckedTable, fmt: PeriodFormat | None, report: ValidationReport) -> None:
    """Warn about teams and (team, period) keys present in one table but not the other."""
    def keyset(table: CheckedTable) -> pd.MultiIndex:
        frame = table.frame.dropna(subset=["team", "_t"])
        return pd.MultiIndex.from_arrays([frame["team"].astype(str), frame["_t"].astype("int64")]).unique()

    a, b = keyset(left), keyset(right)
    for here, there, src, other in ((a, b, left, right), (b, a, right, left)):
        teams_missing = sorted(set(here.get_level_values(0)) - set(there.get_level_values(0)))
        if teams_missing:
            report.add(
                ValidationIssue.build(
                    "warning", f"{src.source} vs {other.source}", "team", "coverage",
                    f"teams in {src.name} but absent from {other.name}; their rows are kept with {other.name} measures missing",
                    teams_missing, teams_missing, "team",
                )
            )
        only = here.difference(there)
        only = only[~only.get_level_values(0).isin(teams_missing)]
        if len(only):
            shown = [f"{team}/{fmt.label(t) if fmt else t}" for team, t in only[:5]]
            report.add(
                ValidationIssue.build(
                    "warning", f"{src.source} vs {other.source}", "team, period", "coverage",
                    f"(team, period) rows in {src.name} without a row in {other.name}; they are kept with {other.name} measures missing",
                    list(only), shown, "key",
                )
            )
