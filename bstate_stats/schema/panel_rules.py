"""Rules that span a whole panel: one region per team, one period grid, enough periods, coverage."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bstate_stats.schema.periods import PeriodFormat, grid_step
from bstate_stats.schema.report import ValidationIssue, ValidationReport
from bstate_stats.schema.table_rules import CheckedTable

MIN_PERIODS = 2


def share_teams(tables: dict[str, CheckedTable]) -> dict[str, CheckedTable]:
    """Every table's teams as categories over one sorted list of all teams, so tables compare and join by code."""
    columns = {name: t.frame["team"].astype("category") for name, t in tables.items()}
    teams = pd.Index(pd.concat([c.cat.categories.to_series() for c in columns.values()]).unique(), dtype="string").sort_values()
    shared = {}
    for name, table in tables.items():
        frame = table.frame.copy(deep=False)
        frame["team"] = columns[name].cat.set_categories(teams)
        shared[name] = dataclasses.replace(table, frame=frame)
    return shared


@dataclass(frozen=True)
class PanelKeys:
    """Each table's (team, period) pairs as integers, team code × ``span`` + period − ``first``, one per keyed row.

    Team codes index the sorted team names that all tables share
    (:func:`share_teams`), so sorting the integers sorts by team, then period.
    Built after each table passed its own rules, so each table holds a pair once.
    """

    teams: pd.Index
    first: int
    span: int
    by_table: dict[str, np.ndarray]
    every: np.ndarray  # the distinct pairs of all tables, sorted
    positions: dict[str, np.ndarray]  # where each table's rows sit in ``every``

    @classmethod
    def of(cls, tables: dict[str, CheckedTable]) -> PanelKeys:
        """The keys of tables whose teams are shared categories; rows without a team or period are left out."""
        frames = {name: keyed_rows(t.frame) for name, t in tables.items()}
        ordinals = {name: f["_t"].to_numpy(dtype=np.int64) for name, f in frames.items()}
        present = [o for o in ordinals.values() if len(o)]
        first = min((int(o.min()) for o in present), default=0)
        span = max((int(o.max()) for o in present), default=0) - first + 1
        by_table = {name: f["team"].cat.codes.to_numpy(dtype=np.int64) * span + ordinals[name] - first for name, f in frames.items()}
        every, rank = sorted_distinct(list(by_table.values()), len(next(iter(tables.values())).frame["team"].cat.categories) * span)
        positions = {name: rank[own] if rank is not None else np.searchsorted(every, own) for name, own in by_table.items()}
        return cls(next(iter(tables.values())).frame["team"].cat.categories, first, span, by_table, every, positions)

    def held_by(self, name: str) -> np.ndarray:
        """Which of ``every`` the table holds (a mask)."""
        held = np.zeros(len(self.every), dtype=bool)
        held[self.positions[name]] = True
        return held

    def team_codes(self, keys: np.ndarray) -> np.ndarray:
        return keys // self.span

    def ordinals(self, keys: np.ndarray) -> np.ndarray:
        return keys % self.span + self.first


def sorted_distinct(arrays: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The distinct values of non-negative integer arrays below ``size``, sorted, and each value's position among them.

    A mask over ``0..size-1`` when that is not much larger than the arrays
    (no sorting, no hashing; positions by value, ``positions[v]``), else
    hashing, then sorting what is left (positions None: search the sorted values).
    """
    n_values = sum(len(a) for a in arrays)
    if size <= 8 * n_values + 1024:
        seen = np.zeros(size, dtype=bool)
        for values in arrays:
            seen[values] = True
        return np.flatnonzero(seen), np.cumsum(seen) - 1
    return np.sort(pd.unique(np.concatenate(arrays))), None


def keyed_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with a team and a period (all of them, uncopied, when none lacks either)."""
    keyed = frame["team"].notna().to_numpy() & frame["_t"].notna().to_numpy()
    return frame if keyed.all() else frame[keyed]


def check_regions(table: CheckedTable, report: ValidationReport) -> None:
    """Error for every team recorded in more than one region."""
    frame = table.frame.dropna(subset=["team", "region"])
    teams, regions = frame["team"].cat.codes.to_numpy(dtype=np.int64), frame["region"].cat.codes.to_numpy(dtype=np.int64)
    n_regions = len(frame["region"].cat.categories)
    pairs, _ = sorted_distinct([teams * n_regions + regions], len(frame["team"].cat.categories) * n_regions)
    counts = np.bincount(pairs // n_regions, minlength=len(frame["team"].cat.categories))
    for team in frame["team"].cat.categories[counts > 1]:
        rows = frame.index[frame["team"] == team]
        regions_seen = sorted(frame.loc[rows, "region"].unique())
        report.add(
            ValidationIssue.build(
                "error", table.source, "region", "one region per team",
                f"team {team!r} switches region ({', '.join(map(str, regions_seen))}); teams must be nested in one region",
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


def check_grid(keys: PanelKeys, fmt: PeriodFormat, source: str, report: ValidationReport) -> int:
    """Spacing, too few periods, single-period teams and gaps; returns the grid step."""
    teams, ordinals = keys.team_codes(keys.every), keys.ordinals(keys.every)
    step = grid_step(ordinals)
    n_periods = len(pd.unique(ordinals))
    if n_periods < MIN_PERIODS:
        report.add(
            ValidationIssue.build(
                "error", source, "period", f"at least {MIN_PERIODS} periods",
                f"the panel has {n_periods} distinct period(s); within-team models need at least {MIN_PERIODS}",
            )
        )
        return step
    starts = np.flatnonzero(np.r_[True, teams[1:] != teams[:-1]])  # sorted keys: each team's rows are contiguous
    codes, counts = teams[starts], np.diff(np.r_[starts, len(teams)])
    single = keys.teams[codes[counts == 1]].tolist()
    if single:
        report.add(
            ValidationIssue.build(
                "warning", source, "team", "more than one period per team",
                "teams observed in a single period add nothing to within-team estimates",
                single, single, "team",
            )
        )
    gaps = _gaps(ordinals, starts, counts, step)
    if gaps:
        named = {keys.teams[codes[i]]: missing for i, missing in gaps.items()}
        described = [f"{team}: {', '.join(str(fmt.label(t)) for t in missing[:4])}{' ...' if len(missing) > 4 else ''}" for team, missing in named.items()]
        report.add(
            ValidationIssue.build(
                "warning", source, "period", "no gaps in periods",
                f"teams with missing periods on the {step}-step grid (lags across a gap are not formed)",
                list(named), described, "team",
            )
        )
    return step


def _gaps(ordinals: np.ndarray, starts: np.ndarray, counts: np.ndarray, step: int) -> dict[int, list[int]]:
    """Missing grid periods between each team's first and last period, by the team's position in ``starts``.

    ``ordinals`` are sorted within each team, whose rows run from ``starts[i]`` for ``counts[i]`` rows.
    """
    lows, highs = ordinals[starts], ordinals[starts + counts - 1]
    gapped = np.flatnonzero((highs - lows) // step + 1 > counts)
    return {
        int(i): np.setdiff1d(np.arange(lows[i], highs[i] + step, step), ordinals[starts[i]:starts[i] + counts[i]]).tolist()
        for i in gapped
    }


def check_coverage(left: CheckedTable, right: CheckedTable, keys: PanelKeys, fmt: PeriodFormat | None, report: ValidationReport) -> None:
    """Warn about teams and (team, period) keys present in one table but not the other."""
    a, b = keys.held_by(left.name), keys.held_by(right.name)
    team_codes = keys.team_codes(keys.every)
    for here, there, src, other in ((a, b, left, right), (b, a, right, left)):
        teams_here, teams_there = (np.bincount(team_codes[held], minlength=len(keys.teams)) > 0 for held in (here, there))
        absent = np.flatnonzero(teams_here & ~teams_there)
        teams_missing = keys.teams[absent].tolist()
        if teams_missing:
            report.add(
                ValidationIssue.build(
                    "warning", f"{src.source} vs {other.source}", "team", "coverage",
                    f"teams in {src.name} but absent from {other.name}; their rows are kept with {other.name} measures missing",
                    teams_missing, teams_missing, "team",
                )
            )
        only = keys.every[here & ~there & teams_there[team_codes]]  # sorted by team, then period
        if len(only):
            pairs = [(keys.teams[team], int(t)) for team, t in zip(keys.team_codes(only), keys.ordinals(only))]
            shown = [f"{team}/{fmt.label(t) if fmt else t}" for team, t in pairs[:5]]
            report.add(
                ValidationIssue.build(
                    "warning", f"{src.source} vs {other.source}", "team, period", "coverage",
                    f"(team, period) rows in {src.name} without a row in {other.name}; they are kept with {other.name} measures missing",
                    pairs, shown, "key",
                )
            )
