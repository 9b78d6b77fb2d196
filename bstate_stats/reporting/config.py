"""Analysis configuration: a TOML file read as data (never executed), with every key and type checked."""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bstate_stats.errors import BStateError, ConfigError, RenamedWarning
from bstate_stats.io.toml_file import read_toml
from bstate_stats.models.fixed_effects.spec import FixedEffectsSpec
from bstate_stats.models.hierarchical import HierarchicalSpec
from bstate_stats.models.hierarchical.priors import Priors
from bstate_stats.reporting.case_steps import CASE_STEPS
from bstate_stats.reporting.steps import step
from bstate_stats.schema.mapping import ColumnMapping


@dataclass(frozen=True)
class DataSection:
    directory: str = "data/example"
    mapping: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSection:
    outcome: str = "csat"
    drivers: list = field(default_factory=lambda: ["habit_index", "relationship_index"])
    threshold: float = 8.0
    habit_change: float = 10.0
    target_prob: float = 0.8


@dataclass(frozen=True)
class FixedEffectsSection:
    effects: str = "twoway"
    cluster: str = "team"
    confidence_level: float = 0.95
    bootstrap_reps: int = 999
    chain_bootstrap_reps: int = 200


@dataclass(frozen=True)
class HierarchicalSection:
    """Settings of the Bayesian fit; defaults are :class:`HierarchicalSpec`'s, so they are set in one place."""

    enabled: bool = True
    sampler: str = HierarchicalSpec.sampler
    chains: int = HierarchicalSpec.chains
    draws: int = HierarchicalSpec.draws
    tune: int = HierarchicalSpec.tune
    target_accept: float = HierarchicalSpec.target_accept
    family: str = HierarchicalSpec.family
    varying: list = field(default_factory=lambda: ["habit_index"])
    period_effects: bool = HierarchicalSpec.period_effects
    region_effects: str = HierarchicalSpec.region_effects
    team_effects: str = HierarchicalSpec.team_effects
    credible_level: float = HierarchicalSpec.credible_level
    priors: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SeedSection:
    hierarchical: int = 1
    bootstrap: int = 0


# keys renamed since 0.1 (one word, one meaning): still read, with a RenamedWarning
RENAMED_KEYS = {"fixed_effects": {"level": "confidence_level", "chain_reps": "chain_bootstrap_reps"}, "hierarchical": {"likelihood": "family"}}
RENAMED_VALUES = {("hierarchical", "family"): {"censored": "censored_normal"}}

SECTIONS = {"data": DataSection, "model": ModelSection, "fixed_effects": FixedEffectsSection, "hierarchical": HierarchicalSection, "seeds": SeedSection}


@dataclass(frozen=True)
class AnalysisEntry:
    """One ``[[analysis]]`` entry: the step's kind and its parsed options."""

    kind: str
    options: Any

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **dataclasses.asdict(self.options)}


@dataclass(frozen=True)
class AnalysisConfig:
    """A parsed analysis configuration; ``base`` is the folder relative paths are read from."""

    data: DataSection = field(default_factory=DataSection)
    model: ModelSection = field(default_factory=ModelSection)
    fixed_effects: FixedEffectsSection = field(default_factory=FixedEffectsSection)
    hierarchical: HierarchicalSection = field(default_factory=HierarchicalSection)
    seeds: SeedSection = field(default_factory=SeedSection)
    analysis: tuple[AnalysisEntry, ...] = ()
    base: Path = Path(".")

    @property
    def data_directory(self) -> Path:
        path = Path(self.data.directory)
        return path if path.is_absolute() else (self.base / path).resolve()

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data (recorded in the manifest), steps included."""
        sections = {name: {f.name: getattr(getattr(self, name), f.name) for f in fields(SECTIONS[name])} for name in SECTIONS}
        return sections | {"analysis": [entry.to_dict() for entry in self.analysis]}


def _check_section(name: str, raw: Any, problems: list[str]):
    cls = SECTIONS[name]
    if not isinstance(raw, dict):
        problems.append(f"[{name}] must be a table")
        return cls()
    raw = _renamed_keys(name, raw, problems)
    known = {f.name: f for f in fields(cls)}
    problems += [f"[{name}] unknown key {key!r} (known: {', '.join(known)})" for key in raw if key not in known]
    values = {}
    for key, value in raw.items():
        if key not in known:
            continue
        expected = type(getattr(cls(), key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(f"[{name}] {key} = {value!r}: expected {expected.__name__}, got {type(value).__name__}")
            continue
        values[key] = value
    return cls(**values)


def _renamed_keys(name: str, raw: dict, problems: list[str]) -> dict:
    """``raw`` with keys renamed since 0.1 under their new names, each rename warned about once."""
    raw = dict(raw)
    for old, new in RENAMED_KEYS.get(name, {}).items():
        if old not in raw:
            continue
        if new in raw:
            problems.append(f"[{name}] {old} and {new} both given; {old} was renamed {new}: keep only {new}")
            continue
        warnings.warn(f"[{name}] {old} is now called {new}; rename the key (the old name will stop working)", RenamedWarning, stacklevel=2)
        raw[new] = raw.pop(old)
    for (section, key), values in RENAMED_VALUES.items():
        value = raw.get(key) if section == name else None
        if isinstance(value, str) and value in values:
            warnings.warn(f"[{name}] {key} = {value!r} is now {values[value]!r}", RenamedWarning, stacklevel=2)
            raw[key] = values[value]
    return raw


def load_config(path: str | Path) -> AnalysisConfig:
    """Read and check a config file; :class:`~bstate_stats.errors.ConfigError` lists every problem."""
    path = Path(path)
    raw = read_toml(path, "the analysis config")
    return config_from_dict(raw, base=path.parent, source=str(path))


def config_from_dict(raw: dict, *, base: Path = Path("."), source: str = "config") -> AnalysisConfig:
    """A checked config from parsed TOML; :class:`~bstate_stats.errors.ConfigError` lists every problem.

    Parameters
    ----------
    raw
        The parsed document: the sections and, optionally, an ``analysis``
        list of steps (``[[analysis]]`` tables, each with a ``kind``).
    base
        The folder relative paths are read from.
    source
        Named in messages.

    Returns
    -------
    AnalysisConfig
    """
    problems = [f"unknown section [{key}] (known: {', '.join([*SECTIONS, 'analysis'])})" for key in raw if key not in SECTIONS and key != "analysis"]
    sections = {name: _check_section(name, raw.get(name, {}), problems) for name in SECTIONS}
    if not problems:
        problems += _check_values(**sections)
    analysis = _check_analysis(raw.get("analysis"), sections["hierarchical"], problems)
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return AnalysisConfig(**sections, analysis=analysis, base=Path(base))


def _check_analysis(raw: Any, hierarchical: HierarchicalSection, problems: list[str]) -> tuple[AnalysisEntry, ...]:
    """The steps to run: the ``[[analysis]]`` list, or the case study's steps (Bayesian model when enabled)."""
    if raw is None:
        kinds = [k for k in CASE_STEPS if k != "hierarchical" or hierarchical.enabled]
        return tuple(AnalysisEntry(kind, step(kind).options()) for kind in kinds)
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw) or not raw:
        problems.append("[[analysis]] must be a list of tables, each with a kind (e.g. [[analysis]] kind = \"fixed_effects\")")
        return ()
    entries = []
    for k, entry in enumerate(raw, start=1):
        where = f"[[analysis]] #{k}"
        kind = entry.get("kind")
        try:
            registered = step(kind) if isinstance(kind, str) else None
            if registered is None:
                raise ConfigError(f"{where}: kind = {kind!r}; give the step's kind as text")
            entries.append(AnalysisEntry(kind, registered.parse_options({k2: v for k2, v in entry.items() if k2 != "kind"}, where)))
        except ConfigError as exc:
            problems.append(str(exc))
    if any(e.kind == "hierarchical" for e in entries) and not hierarchical.enabled:
        problems.append("[[analysis]] lists kind = \"hierarchical\" while [hierarchical] enabled = false; remove one of them")
    return tuple(entries)


def _whole(value: int, low: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= low


def _check_values(data: DataSection, model: ModelSection, fixed_effects: FixedEffectsSection, hierarchical: HierarchicalSection, seeds: SeedSection) -> list[str]:
    """Values that have the right type but cannot work, each named by section and key (checked before any data is read)."""
    problems = []
    if not model.drivers or not all(isinstance(d, str) and d for d in model.drivers):
        problems.append(f"[model] drivers = {model.drivers!r}: a list of column names (text), the habit index first")
    elif model.outcome in model.drivers:
        problems.append(f"[model] outcome {model.outcome!r} is also listed in drivers")
    if not model.outcome:
        problems.append("[model] outcome: a column name is needed")
    for key in ("threshold", "habit_change"):
        if not math.isfinite(getattr(model, key)):
            problems.append(f"[model] {key} = {getattr(model, key)}: a finite number is needed")
    if not 0 < model.target_prob < 1:
        problems.append(f"[model] target_prob = {model.target_prob}: a probability strictly between 0 and 1")
    if not 0 < fixed_effects.confidence_level < 1:
        problems.append(f"[fixed_effects] confidence_level = {fixed_effects.confidence_level}: strictly between 0 and 1 (0.95 for 95%)")
    if not _whole(fixed_effects.bootstrap_reps, 0):
        problems.append(f"[fixed_effects] bootstrap_reps = {fixed_effects.bootstrap_reps}: 0 (no bootstrap) or more")
    if not _whole(fixed_effects.chain_bootstrap_reps, 2):
        problems.append(f"[fixed_effects] chain_bootstrap_reps = {fixed_effects.chain_bootstrap_reps}: at least 2 (200 or more for a 95% interval)")
    for name in ("hierarchical", "bootstrap"):
        if not _whole(getattr(seeds, name), 0):
            problems.append(f"[seeds] {name} = {getattr(seeds, name)}: a seed is a whole number, 0 or more")
    drivers = tuple(d for d in model.drivers if isinstance(d, str)) or ("habit_index",)
    checks = {
        "[data] mapping": lambda: ColumnMapping.from_dict(data.mapping or None),
        "[fixed_effects]": lambda: FixedEffectsSpec(model.outcome, drivers, fixed_effects.effects, cluster=fixed_effects.cluster or None, confidence_level=0.95),  # type: ignore[arg-type]
        "[hierarchical]": lambda: HierarchicalSpec(
            model.outcome, drivers, max(seeds.hierarchical, 0), sampler=hierarchical.sampler, chains=hierarchical.chains, draws=hierarchical.draws,  # type: ignore[arg-type]
            tune=hierarchical.tune, target_accept=hierarchical.target_accept, family=hierarchical.family, varying=tuple(hierarchical.varying),  # type: ignore[arg-type]
            period_effects=hierarchical.period_effects, region_effects=hierarchical.region_effects,  # type: ignore[arg-type]
            credible_level=hierarchical.credible_level, team_effects=hierarchical.team_effects,  # type: ignore[arg-type]
        ),
        "[hierarchical] priors": lambda: Priors.from_mapping(hierarchical.priors or None),
    }
    for where, check in checks.items():
        try:
            check()
        except (BStateError, TypeError, ValueError) as exc:
            problems.append(f"{where}: {exc}")
    return problems
