"""The validated panel: teams x periods, teams nested in regions, three measure families."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bstate_stats.errors import ColumnError, SpecificationError
from bstate_stats.panel import derived
from bstate_stats.panel.assemble import PanelParts, assemble
from bstate_stats.panel.derived import HABIT_INDEX, RELATIONSHIP_INDEX
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.schema.periods import PeriodFormat
from bstate_stats.schema.report import ValidationReport
from bstate_stats.schema.validate import require_valid_tables, validate_generic_frame

if TYPE_CHECKING:  # pragma: no cover
    from bstate_stats.panel.describe import PanelDescription



@dataclass(frozen=True)
class ModelFrame:
    """Rows a model uses, indexed by (team, t), and the ledger of rows it left out.

    ``t`` is the period ordinal; lagged columns are named ``{column}_lag{k}``.
    """

    data: pd.DataFrame
    ledger: ExclusionLedger
    outcome: str
    drivers: tuple[str, ...]


@dataclass
class Panel:
    """A validated panel of teams observed over periods.

    Build one with :func:`bstate_stats.load_panel`, :meth:`Panel.from_frames`
    or :meth:`Panel.from_frame`; the constructor does no validation.

    Attributes
    ----------
    data
        One row per (team, period); index levels ``team`` and ``period``
        (period labels), columns ``region`` (when known), ``t`` (the period's
        position on the grid) and the measures.
    roles
        Measure column -> role (``outcome``, ``driver``, ``revenue``,
        ``operational``, ``habit_item``, ``relationship_item``, ``habit_index``,
        ``relationship_index``, ``respondents``, ``improvement``).
    scales
        Measure column -> scale name (``score_0_10``, ``percent_0_100`` ...).
    period_format, step
        How periods are written and the spacing of the grid in ordinals.
    report
        The validation report (warnings only: a panel with errors is never built).
    reliability
        Cronbach's alpha of the items behind each derived index.
    """

    data: pd.DataFrame
    roles: dict[str, str]
    scales: dict[str, str]
    period_format: PeriodFormat
    step: int = 1
    report: ValidationReport = field(default_factory=ValidationReport)
    sources: dict[str, str] = field(default_factory=dict)
    reliability: dict[str, float] = field(default_factory=dict)
    _team_t: tuple[pd.Index, pd.MultiIndex] | None = field(default=None, init=False, repr=False, compare=False)  # data's index and its (team, t) twin

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_frames(
        cls,
        deliverables: pd.DataFrame,
        habits: pd.DataFrame | None = None,
        relationships: pd.DataFrame | None = None,
        *,
        mapping: Mapping | None = None,
    ) -> Panel:
        """Validate three in-memory tables and build a panel; raises ``ValidationError`` listing every problem.

        ``mapping`` renames the user's columns to the contract's and may set
        scales (see :class:`bstate_stats.schema.mapping.ColumnMapping`).
        """
        return cls.from_parts(assemble(require_valid_tables({"deliverables": deliverables, "habits": habits, "relationships": relationships}, mapping=mapping)))

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        team: str,
        period: str,
        region: str | None = None,
        outcomes: Iterable[str],
        drivers: Iterable[str] = (),
        scales: Mapping[str, str] | None = None,
    ) -> Panel:
        """Any panel with its own column names and numeric measures.

        Parameters
        ----------
        frame
            One row per (team, period).
        team, period, region
            Names of the identifier columns; ``region`` is optional.
        outcomes, drivers
            Measure columns, kept under their own names.
        scales
            Scale per measure (default ``numeric``), e.g. ``{"csat": "score_0_10"}``.
        """
        validated = validate_generic_frame(frame, team=team, period=period, region=region, outcomes=list(outcomes), drivers=list(drivers), scales=dict(scales or {}))
        return cls.from_parts(assemble(validated))

    @classmethod
    def from_parts(cls, parts: PanelParts) -> Panel:
        """The panel made of assembled, validated parts (see :mod:`bstate_stats.panel.assemble`)."""
        return cls(**{f.name: getattr(parts, f.name) for f in dataclasses.fields(parts)})

    # -- description --------------------------------------------------------------
    def columns_with_role(self, *roles: str) -> list[str]:
        return [c for c, r in self.roles.items() if r in roles]

    @property
    def outcomes(self) -> list[str]:
        return self.columns_with_role("outcome")

    @property
    def drivers(self) -> list[str]:
        return self.columns_with_role("driver", HABIT_INDEX, RELATIONSHIP_INDEX)

    @property
    def teams(self) -> pd.Index:
        return self.data.index.get_level_values("team").unique()

    @property
    def periods(self) -> pd.Index:
        return self.data.index.get_level_values("period").unique().sort_values()

    @property
    def regions(self) -> pd.Index:
        if "region" not in self.data:
            return pd.Index([])
        return pd.Index(self.data["region"].dropna().unique()).sort_values()

    @property
    def has_regions(self) -> bool:
        return "region" in self.data and self.data["region"].notna().any()

    @property
    def n_rows(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        regions = f", {len(self.regions)} regions" if self.has_regions else ""
        return (
            f"Panel({self.n_rows} rows: {len(self.teams)} teams{regions}, {len(self.periods)} periods "
            f"[{self.period_format.describe()}]; outcomes {self.outcomes}; drivers {self.drivers})"
        )

    def period_label(self, t: int) -> object:
        """The period label of a grid position ``t``."""
        return self.period_format.label(t)

    def describe(self, *, outcome: str | None = None, threshold: float = 8.0) -> PanelDescription:
        """Trajectories of the three families, share of teams at or above ``threshold``, region ranking."""
        from bstate_stats.panel.describe import describe_panel

        outcome = outcome or (self.outcomes[0] if self.outcomes else None)
        if outcome is None or outcome not in self.data.columns:
            raise ColumnError(f"cannot describe outcome {outcome!r}: not in the panel (outcomes: {', '.join(self.outcomes) or 'none'})")
        if not self.data[outcome].notna().any():
            raise SpecificationError(f"{outcome} has no values in any row (every cell empty): there is nothing to describe or model")
        return describe_panel(self, outcome=outcome, threshold=threshold)

    def habits_improved(self, *, baseline=None, compare=None, min_change: float = 0.0) -> pd.DataFrame:
        """Share of habit items improved per team between two periods (default: each team's first and last).

        ``baseline`` and ``compare`` are period labels. The overall share (all
        team-item pairs compared) is in ``.attrs["overall_share"]``.
        """
        items = self.columns_with_role("habit_item")
        if not items:
            raise SpecificationError("this panel has no habit items (no habits table, or none of its columns are habit items)")
        by_t = self.data.reset_index(level="period", drop=True).set_index("t", append=True)[items]
        to_t = self._ordinal_of
        out = derived.share_improved(by_t, baseline=None if baseline is None else to_t(baseline), compare=None if compare is None else to_t(compare), min_change=min_change)
        out.insert(0, "baseline", out.pop("baseline_t").map(self.period_label))
        out.insert(1, "compare", out.pop("compare_t").map(self.period_label))
        out.attrs["overall_share"] = out["n_improved"].sum() / max(out["n_items"].sum(), 1)
        return out

    def _ordinal_of(self, label) -> int:
        labels = self.data.index.get_level_values("period")
        match = self.data["t"].to_numpy()[np.asarray(labels.astype(str) == str(label))]
        if not len(match):
            raise SpecificationError(f"period {label!r} is not in the panel; periods run {self.periods[0]} .. {self.periods[-1]}")
        return int(match[0])

    def with_columns(self, columns: Mapping[str, pd.Series], *, role: str = "derived", scale: str = "numeric") -> Panel:
        """A new panel with extra columns (aligned on the panel index); this panel is unchanged."""
        data = self.data.copy()
        roles, scales = dict(self.roles), dict(self.scales)
        for name, values in columns.items():
            data[name] = values.reindex(data.index) if isinstance(values, pd.Series) else values
            roles[name], scales[name] = role, scale
        return dataclasses.replace(self, data=data, roles=roles, scales=scales)

    # -- model frames -------------------------------------------------------------
    def lagged(self, column: str, lag: int = 1) -> pd.Series:
        """``column`` at ``lag`` grid steps earlier for the same team (NaN at a team's start or after a gap)."""
        frame = self.data.reset_index()[["team", "t", column]]
        earlier = frame.assign(t=frame["t"] + lag * self.step).rename(columns={column: "lagged"})
        joined = frame[["team", "t"]].merge(earlier[["team", "t", "lagged"]], on=["team", "t"], how="left")
        return pd.Series(joined["lagged"].to_numpy(), index=self.data.index, name=f"{column}_lag{lag}")

    def model_frame(self, outcome: str, drivers: Iterable[str] | str, *, lags: Mapping[str, int] | None = None, extra: Iterable[str] = ()) -> ModelFrame:
        """Rows with the outcome and every driver present, and a ledger of the rest.

        Parameters
        ----------
        outcome, drivers
            Numeric columns of the panel (one driver may be given as a string).
        lags
            ``{driver: k}`` replaces a driver by its value ``k`` periods earlier
            (built from the panel index, so never across teams or gaps).
        extra
            Further columns to carry (e.g. ``region``); rows missing them are excluded too.

        Returns
        -------
        ModelFrame
            Indexed by (team, t), with its exclusion ledger.

        Raises
        ------
        ColumnError
            A column is not in the panel.
        SpecificationError
            The outcome is also a driver, a column is not numeric, a lag is not
            a positive whole number of periods or names no driver, or the
            outcome is constant in the rows kept (nothing to explain).
        """
        drivers = [drivers] if isinstance(drivers, str) else list(drivers)
        lags = dict(lags or {})
        self._check_model_columns(outcome, drivers, lags, list(extra))
        columns: dict[str, pd.Series] = {outcome: self.data[outcome]}
        for driver in drivers:
            series = self.lagged(driver, lags[driver]) if lags.get(driver) else self.data[driver]
            columns[str(series.name)] = series
        names = list(columns)[1:]
        columns |= {c: self.data[c] for c in extra if c not in columns and c != "t"}
        ledger = ExclusionLedger(len(self.data))
        keep = np.ones(len(self.data), dtype=bool)
        for column, series in columns.items():
            missing = keep & series.isna().to_numpy()
            if missing.any():
                reason = f"missing {column}"
                if column.endswith(tuple(f"_lag{k}" for k in lags.values())):
                    reason = f"missing {column} (team's first period, a gap, or missing earlier value)"
                ledger.exclude(reason, self.data.index[missing])
                keep &= ~missing
        everything = bool(keep.all())
        kept = {c: (s.to_numpy() if everything else s.to_numpy()[keep]) for c, s in columns.items()}
        if len(kept[outcome]) and np.min(kept[outcome]) == np.max(kept[outcome]):
            raise SpecificationError(f"{outcome} is constant ({kept[outcome][0]:g}) in every row used: there is nothing to explain")
        index = self._team_t_index() if everything else self._team_t_index()[keep]
        return ModelFrame(pd.DataFrame(kept, index=index, copy=False), ledger, outcome, tuple(names))

    def _check_model_columns(self, outcome: str, drivers: list[str], lags: dict[str, int], extra: list[str]) -> None:
        """Refuse columns a model cannot use, naming them and the rule."""
        named = [outcome, *drivers, *extra]
        not_text = [c for c in named if not isinstance(c, str)]
        if not_text:
            raise ColumnError(f"column names must be text, got {not_text}")
        unknown = [c for c in dict.fromkeys([*named, *lags]) if c not in self.data.columns]
        if unknown:
            measures = [c for c in self.data.columns if c not in ("t", "region")]
            raise ColumnError(f"not in the panel: {', '.join(map(repr, unknown))}; its measures are {', '.join(measures)}")
        if outcome in drivers:
            raise SpecificationError(f"{outcome!r} is both the outcome and a driver; a column cannot explain itself")
        if len(set(drivers)) < len(drivers):
            raise SpecificationError(f"a driver is listed twice: {drivers}")
        text = [c for c in [outcome, *drivers] if not pd.api.types.is_numeric_dtype(self.data[c])]
        if text:
            raise SpecificationError(f"{', '.join(map(repr, text))} is not numeric and cannot be an outcome or driver (teams and regions are handled by the effects)")
        for driver, lag in lags.items():
            if driver not in drivers:
                raise SpecificationError(f"lags names {driver!r}, which is not among the drivers {drivers}")
            if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or lag < 0:
                raise SpecificationError(f"lags[{driver!r}] = {lag!r}: a lag is a whole number of periods, 0 or more (a negative lag would be a lead)")

    def _team_t_index(self) -> pd.MultiIndex:
        """The (team, t) index of ``data``, built once per ``data`` from the index's integer codes (no re-hashing of team labels)."""
        if self._team_t is None or self._team_t[0] is not self.data.index:
            self._team_t = (self.data.index, self._build_team_t_index())
        return self._team_t[1]

    def _build_team_t_index(self) -> pd.MultiIndex:
        index = self.data.index
        t = self.data["t"].to_numpy()
        t_by_period = np.zeros(len(index.levels[1]), dtype=t.dtype)
        t_by_period[index.codes[1]] = t  # a period has one ordinal; unused period labels keep 0 and are dropped
        used = np.zeros(len(index.levels[1]), dtype=bool)
        used[index.codes[1]] = True
        t_levels = t_by_period[used]
        t_codes = (np.cumsum(used) - 1)[index.codes[1]]
        return pd.MultiIndex(levels=[index.levels[0], t_levels], codes=[index.codes[0], t_codes], names=["team", "t"], verify_integrity=False)
