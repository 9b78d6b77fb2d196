"""The contract every family's results implement, and the rendering they share.

Every results object gives ``summary()`` (a tidy frame), ``plot()`` (a
figure), ``to_dict()``/``save()`` (plain data, written atomically) and
``report_items()``: a table, a sentence with the numbers, figures and
headline values, which an analysis step hands to the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bstate_stats.io.atomic import write_text

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@dataclass
class ReportItems:
    """What a result contributes to a report: a table, a sentence with the numbers, figures, headline values."""

    title: str
    table: pd.DataFrame
    sentence: str
    figures: dict[str, Figure] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)


class RendersSummary:
    """Mixin: ``summary()`` drives ``__str__`` (text), ``_repr_html_`` (notebooks) and Markdown/LaTeX."""

    @property
    def title(self) -> str:
        """The heading printed above the table."""
        return "Results"

    def summary(self) -> pd.DataFrame:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def notes(self) -> list[str]:
        """Lines printed under the table: counts, conventions, warnings."""
        return []

    def _formatted(self) -> pd.DataFrame:
        return self.summary().round(4)

    def to_markdown(self) -> str:
        table = self._formatted()
        header = "| " + " | ".join(map(str, table.columns)) + " |"
        rule = "|" + "|".join("---" for _ in table.columns) + "|"
        rows = ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in table.itertuples(index=False)]
        notes = [f"\n{n}" for n in self.notes()]
        return "\n".join([f"**{self.title}**\n", header, rule, *rows, *notes])

    def to_latex(self) -> str:
        return self._formatted().to_latex(index=False, na_rep="", caption=self.title)

    def to_html(self) -> str:
        notes = "".join(f"<p>{n}</p>" for n in self.notes())
        return f"<h4>{self.title}</h4>" + self._formatted().to_html(index=False, na_rep="") + notes

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return "\n".join([self.title, self._formatted().to_string(index=False), *self.notes()])


class Results(RendersSummary):
    """The results contract: a family implements ``summary``, ``plot``, ``sentence`` and, where it has more to keep, ``to_dict``."""

    def plot(self) -> Figure:  # pragma: no cover - implemented by subclasses
        """The figure a reader would rather look at than read."""
        raise NotImplementedError

    def sentence(self) -> str:  # pragma: no cover - implemented by subclasses
        """One sentence with the main numbers and their interval."""
        raise NotImplementedError

    def headline(self) -> dict[str, Any]:
        """Named headline values (plain numbers) for summaries and dashboards."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data: the title, the summary table, the notes and the headline values."""
        return {"title": self.title, "summary": json.loads(self.summary().to_json(orient="records")), "notes": self.notes(), "headline": self.headline()}

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON, atomically; returns the path."""
        return write_text(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")

    def report_items(self) -> ReportItems:
        """The table, the sentence, the figure and the headline values, for a report section."""
        slug = "".join(c if c.isalnum() else "_" for c in type(self).__name__.lower())
        return ReportItems(self.title, self.summary(), self.sentence(), {slug: self.plot()}, self.headline())
