"""Provenance: the versions of the packages behind a result."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

RUN_PACKAGES = ("bstate_stats", "numpy", "pandas", "scipy", "pandera", "statsmodels", "linearmodels", "pyfixest", "wildboottest", "pymc", "pytensor", "arviz", "nutpie", "matplotlib")


def package_versions(names: Iterable[str] = RUN_PACKAGES) -> dict[str, str]:
    """Python's version and each package's installed version (``"not installed"`` when absent).

    Parameters
    ----------
    names
        Distribution names to look up.

    Returns
    -------
    dict
        ``{"python": "3.11.7", "pandas": "2.2.3", ...}``.
    """
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
