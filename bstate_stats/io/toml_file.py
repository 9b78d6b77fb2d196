"""Reading a TOML file a user wrote (a config, a column mapping): every way it can fail is one ConfigError sentence."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bstate_stats.errors import ConfigError


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The parsed document at ``path``.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (``"the config"``, ``"the column mapping"``).

    Returns
    -------
    dict
        The document.

    Raises
    ------
    ConfigError
        Missing, a folder, not UTF-8, unreadable, or not valid TOML.
    """
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: {what} file not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: is a folder; {what} is a TOML file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {what} is not UTF-8 text (save it as UTF-8)") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {what} is not valid TOML: {exc}") from exc
