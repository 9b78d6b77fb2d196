"""The exclusion ledger: every row that leaves an analysis, with its reason.

Invariant: ``n_kept + n_excluded == n_input``, checked whenever the ledger is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class LedgerEntry:
    """Rows excluded for one reason; ``rows`` are (team, period) keys."""

    reason: str
    rows: tuple[tuple, ...]

    @property
    def n_rows(self) -> int:
        return len(self.rows)


@dataclass
class ExclusionLedger:
    """Rows in, rows kept, and every excluded row with its reason.

    Each excluded row appears under exactly one reason: the first rule it broke.
    """

    n_input: int
    entries: list[LedgerEntry] = field(default_factory=list)

    @property
    def n_excluded(self) -> int:
        return sum(e.n_rows for e in self.entries)

    @property
    def n_kept(self) -> int:
        return self.n_input - self.n_excluded

    def exclude(self, reason: str, rows: pd.Index | list) -> None:
        """Record ``rows`` (team, period keys) as excluded for ``reason``; empty sets are not recorded."""
        rows = [tuple(r) if isinstance(r, tuple) else (r,) for r in rows]
        if rows:
            self.entries.append(LedgerEntry(reason, tuple(rows)))

    def summary(self) -> pd.DataFrame:
        """One row per reason, then totals: ``reason, n_rows, examples``."""
        records = [
            {"reason": e.reason, "n_rows": e.n_rows, "examples": "; ".join("/".join(map(str, r)) for r in e.rows[:3])}
            for e in self.entries
        ]
        records += [
            {"reason": "total excluded", "n_rows": self.n_excluded, "examples": ""},
            {"reason": "kept", "n_rows": self.n_kept, "examples": ""},
            {"reason": "input", "n_rows": self.n_input, "examples": ""},
        ]
        return pd.DataFrame.from_records(records, columns=["reason", "n_rows", "examples"])

    def to_dict(self) -> dict:
        return {
            "n_input": self.n_input,
            "n_kept": self.n_kept,
            "n_excluded": self.n_excluded,
            "entries": [{"reason": e.reason, "n_rows": e.n_rows, "rows": [list(map(str, r)) for r in e.rows]} for e in self.entries],
        }

    def __str__(self) -> str:
        lines = [f"{self.n_input} rows in, {self.n_kept} kept, {self.n_excluded} excluded"]
        lines += [f"  - {e.n_rows} row(s): {e.reason}" for e in self.entries]
        return "\n".join(lines)
