"""Exceptions and warnings of bstate_stats.

Every exception derives from :class:`BStateError`, so a caller can catch the
toolkit's failures in one place. Messages name the file, column, rows and rule.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from bstate_stats.schema.report import ValidationReport


class BStateError(Exception):
    """Base class of every error raised by bstate_stats."""


class ValidationError(BStateError, ValueError):
    """Input data broke one or more rules of the data contract.

    Parameters
    ----------
    report
        The full :class:`~bstate_stats.schema.report.ValidationReport`, holding
        every failure found (not only the first).
    """

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.to_text(errors_only=True))


class SchemaDefinitionError(BStateError):
    """A schema file in ``data/schemas/`` or a column mapping is malformed."""


class SpecificationError(BStateError, ValueError):
    """A model was asked for something the data cannot identify or the options do not allow."""


class ConfigError(BStateError, ValueError):
    """An analysis configuration has unknown keys, wrong types or missing entries."""


class ColumnError(BStateError, KeyError):
    """A column named in a call or a config is not in the panel or the table."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class OutputError(BStateError, OSError):
    """An output cannot be written: a full disk, a read-only or unwritable folder, a file in the way."""


class RunFolderError(BStateError):
    """An output folder cannot be used for a run: it holds files no bstate run wrote, or a different run."""


class RunLockedError(RunFolderError):
    """Another run is writing into the same output folder."""


class BStateWarning(UserWarning):
    """Base class of the warnings bstate_stats emits (data gaps, few clusters, ...)."""


class EstimationWarning(BStateWarning):
    """An estimate is available but fragile (few clusters, non-identified terms, ...)."""


class RenamedWarning(BStateWarning, FutureWarning):
    """A keyword or a value was renamed; the old name still works, and will be removed in a later release."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def renamed_keywords(**renames: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Accept a keyword under its old name for a while, with a :class:`RenamedWarning`.

    Parameters
    ----------
    **renames
        ``old_name="new_name"`` pairs.

    Returns
    -------
    Callable
        A decorator: the wrapped function sees only the new names; giving both
        names is a :class:`SpecificationError`.
    """

    def decorate(func: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(func)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise SpecificationError(f"{func.__name__}: {old}= and {new}= both given; {old} was renamed {new}")
                warnings.warn(f"{func.__name__}({old}=...) is now {new}=...; the old name will be removed", RenamedWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate
