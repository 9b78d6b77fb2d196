"""Analysis configuration: a TOML file read as data (never executed), with every key and type checked."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bstate_stats.errors import ConfigError
from bstate_stats.models.hierarchical import HierarchicalSpec


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
    level: float = 0.95
    bootstrap_reps: int = 999
    chain_reps: int = 200


@dataclass(frozen=True)
class HierarchicalSection:
    """Settings of the Bayesian fit; defaults are :class:`HierarchicalSpec`'s, so they are set in one place."""

    enabled: bool = True
    sampler: str = HierarchicalSpec.sampler
    chains: int = HierarchicalSpec.chains
    draws: int = HierarchicalSpec.draws
    tune: int = HierarchicalSpec.tune
    target_accept: float = HierarchicalSpec.target_accept
    likelihood: str = HierarchicalSpec.likelihood
    team_effects: str = HierarchicalSpec.team_effects
    credible_level: float = HierarchicalSpec.credible_level
    priors: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SeedSection:
    hierarchical: int = 1
    bootstrap: int = 0


SECTIONS = {"data": DataSection, "model": ModelSection, "fixed_effects": FixedEffectsSection, "hierarchical": HierarchicalSection, "seeds": SeedSection}


@dataclass(frozen=True)
class AnalysisConfig:
    """A parsed analysis configuration; ``base`` is the folder relative paths are read from."""

    data: DataSection = field(default_factory=DataSection)
    model: ModelSection = field(default_factory=ModelSection)
    fixed_effects: FixedEffectsSection = field(default_factory=FixedEffectsSection)
    hierarchical: HierarchicalSection = field(default_factory=HierarchicalSection)
    seeds: SeedSection = field(default_factory=SeedSection)
    base: Path = Path(".")

    @property
    def data_directory(self) -> Path:
        path = Path(self.data.directory)
        return path if path.is_absolute() else (self.base / path).resolve()

    def to_dict(self) -> dict[str, Any]:
        return {name: {f.name: getattr(getattr(self, name), f.name) for f in fields(SECTIONS[name])} for name in SECTIONS}


def _check_section(name: str, raw: Any, problems: list[str]):
    cls = SECTIONS[name]
    if not isinstance(raw, dict):
        problems.append(f"[{name}] must be a table")
        return cls()
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


def load_config(path: str | Path) -> AnalysisConfig:
    """Read and check a config file; :class:`~bstate_stats.errors.ConfigError` lists every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return config_from_dict(raw, base=path.parent, source=str(path))


def config_from_dict(raw: dict, *, base: Path = Path("."), source: str = "config") -> AnalysisConfig:
    problems = [f"unknown section [{key}] (known: {', '.join(SECTIONS)})" for key in raw if key not in SECTIONS]
    sections = {name: _check_section(name, raw.get(name, {}), problems) for name in SECTIONS}
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return AnalysisConfig(**sections, base=Path(base))
