"""Analysis steps: the seam every model family plugs into.

A step is a function registered under a ``kind``. The analysis config lists
the steps to run (``[[analysis]]`` entries, each with a ``kind`` and its
options); the run loops over them, writes what each returns (tables,
figures, text) through the run folder, merges their headline values, and the
report shows their sections in order. Adding a family means writing its
folder under ``models/`` and registering one step; the run, the CLI and the
report are not edited.

>>> @register_step("my_family", options=MyOptions, description="my family")
... def my_step(context: StepContext) -> StepOutput: ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from bstate_stats.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from bstate_stats.panel.panel import Panel


@dataclass(frozen=True)
class TableItem:
    """A table of a section: the file stem under ``tables/``, the digits to show, the columns shown as money or percentages,
    and rows (by their first column's label) whose numbers are all money or all percentages, as ``(label, "currency" | "percent")``."""

    name: str
    digits: int = 3
    currency: tuple[str, ...] = ()
    percent: tuple[str, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Section:
    """What a step shows in the report: a title, sentences with the numbers, tables, figures and Markdown files."""

    title: str
    sentences: tuple[str, ...] = ()
    tables: tuple[TableItem, ...] = ()
    figures: tuple[str, ...] = ()
    markdown: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class StepOutput:
    """What a step produced.

    Attributes
    ----------
    tables, figures, texts
        Written to ``tables/{name}.csv``, ``figures/{name}.png`` and
        ``tables/{name}`` (text, e.g. Markdown) by the run.
    files
        Other files, by relative path, with a function writing each to the path it is given (a posterior, say).
    headline
        Values merged into ``headline.json``.
    sections
        Shown in the report, in order.
    status
        ``ok``, or ``not_converged`` when a fit failed its checks.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    files: dict[str, Callable[[Any], object]] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    status: str = "ok"


@dataclass(frozen=True)
class StepContext:
    """What a step is given: the validated panel, the whole config, this entry's options, and a progress callback."""

    panel: Panel
    config: Any  # AnalysisConfig (reporting.config imports this module)
    options: Any
    progress: Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """A registered step: its kind, what it does in a few words, its options and the function that runs it."""

    kind: str
    description: str
    options: type
    run: Callable[[StepContext], StepOutput]

    def parse_options(self, raw: dict[str, Any], where: str) -> Any:
        """This step's options from a config entry; unknown keys and wrong types are :class:`ConfigError`."""
        known = {f.name: f for f in dataclasses.fields(self.options)}
        problems = [f"{where}: unknown option {key!r} for kind {self.kind!r} (options: {', '.join(known) or 'none'})" for key in raw if key not in known]
        values = {}
        for key, value in raw.items():
            if key not in known:
                continue
            default = getattr(self.options(), key)
            expected = type(default)
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if default is not None and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
                problems.append(f"{where}: {key} = {value!r}: expected {expected.__name__}")
                continue
            values[key] = value
        if problems:
            raise ConfigError("; ".join(problems))
        return self.options(**values)


@dataclass(frozen=True)
class NoOptions:
    """A step that takes its settings from the config's shared sections."""


STEPS: dict[str, Step] = {}


def register_step(kind: str, *, description: str, options: type = NoOptions) -> Callable[[Callable[[StepContext], StepOutput]], Callable[[StepContext], StepOutput]]:
    """Register ``function`` as the step ``kind`` (a decorator).

    Parameters
    ----------
    kind
        The name used in ``[[analysis]] kind = ...``.
    description
        A few words for the progress line.
    options
        A dataclass of the entry's options, with defaults.

    Returns
    -------
    callable
        The decorator; the function is returned unchanged.
    """

    def register(function: Callable[[StepContext], StepOutput]) -> Callable[[StepContext], StepOutput]:
        if kind in STEPS and STEPS[kind].run is not function:
            raise ConfigError(f"a step of kind {kind!r} is registered already")
        STEPS[kind] = Step(kind, description, options, function)
        return function

    return register


def step(kind: str) -> Step:
    """The registered step ``kind``, or :class:`ConfigError` listing the kinds there are."""
    if kind not in STEPS:
        raise ConfigError(f"unknown analysis kind {kind!r} (kinds: {', '.join(sorted(STEPS))})")
    return STEPS[kind]
