"""What every results object shares: rendering in terminals, notebooks and Quarto."""

from __future__ import annotations

import pandas as pd


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
