"""The validation report: every failure found in the input, with where and why."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd

from bstate_stats.errors import ValidationError

Severity = Literal["error", "warning"]
MAX_SHOWN = 5


def _plain(value: Any) -> Any:
    """A JSON-friendly version of a value seen in the data."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return "NaN"
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


@dataclass(frozen=True)
class ValidationIssue:
    """One broken rule: where (source, column, rows), what (rule) and the values seen.

    ``rows`` holds the first few row labels (file line numbers for files read
    from disk, index labels for in-memory frames) and ``n_rows`` the full count.
    """

    severity: Severity
    source: str
    column: str | None
    rule: str
    message: str
    rows: tuple = ()
    n_rows: int = 0
    values: tuple = ()
    row_label: str = "row"

    @classmethod
    def build(
        cls,
        severity: Severity,
        source: str,
        column: str | None,
        rule: str,
        message: str,
        rows: Iterable = (),
        values: Iterable = (),
        row_label: str = "row",
        n_rows: int | None = None,
    ) -> ValidationIssue:
        """Make an issue, keeping the first few rows and values and counting them all."""
        rows = list(rows)
        values = list(values)
        return cls(
            severity=severity,
            source=source,
            column=column,
            rule=rule,
            message=message,
            rows=tuple(_plain(r) for r in rows[:MAX_SHOWN]),
            n_rows=len(rows) if n_rows is None else n_rows,
            values=tuple(_plain(v) for v in values[:MAX_SHOWN]),
            row_label=row_label,
        )

    def where(self) -> str:
        """``'deliverables.csv, column csat, lines 4, 9 (2 rows)'``."""
        parts = [self.source]
        if self.column:
            parts.append(f"column {self.column!r}")
        if self.n_rows:
            shown = ", ".join(str(r) for r in self.rows)
            more = f" and {self.n_rows - len(self.rows)} more" if self.n_rows > len(self.rows) else ""
            label = self.row_label if self.n_rows == 1 else f"{self.row_label}s"
            parts.append(f"{label} {shown}{more} ({self.n_rows} row{'s' if self.n_rows != 1 else ''})")
        return ", ".join(parts)

    def to_text(self) -> str:
        seen = f"; values seen: {', '.join(repr(v) for v in self.values)}" if self.values else ""
        return f"[{self.severity}] {self.where()}: {self.message} (rule: {self.rule}){seen}"


@dataclass
class ValidationReport:
    """All issues found while validating a panel's tables.

    ``ok`` is True when there is no error (warnings are allowed).
    """

    issues: list[ValidationIssue] = field(default_factory=list)

    def add(self, issue: ValidationIssue) -> None:
        self.issues.append(issue)

    def extend(self, other: ValidationReport | Iterable[ValidationIssue]) -> None:
        self.issues.extend(other.issues if isinstance(other, ValidationReport) else other)

    @property
    def errors(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> pd.DataFrame:
        """One row per issue: severity, source, column, rule, n_rows, rows, values, message."""
        columns = ["severity", "source", "column", "rule", "n_rows", "rows", "values", "message"]
        records = [
            {
                "severity": i.severity,
                "source": i.source,
                "column": i.column,
                "rule": i.rule,
                "n_rows": i.n_rows,
                "rows": ", ".join(map(str, i.rows)),
                "values": ", ".join(map(repr, i.values)),
                "message": i.message,
            }
            for i in self.issues
        ]
        return pd.DataFrame.from_records(records, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "issues": [asdict(i) for i in self.issues],
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def to_text(self, *, errors_only: bool = False) -> str:
        shown = self.errors if errors_only else self.issues
        head = f"Validation {'passed' if self.ok else 'failed'}: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        return "\n".join([head, *(f"  {i.to_text()}" for i in shown)])

    def __str__(self) -> str:
        return self.to_text()

    def raise_if_invalid(self) -> None:
        """Raise :class:`~bstate_stats.errors.ValidationError` carrying this report when it has errors."""
        if not self.ok:
            raise ValidationError(self)
