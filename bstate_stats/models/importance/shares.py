"""Shares of R² from a cross-product matrix: every subset's R², the Shapley (LMG) decomposition and Johnson's relative weights.

Every function takes the cross-products of demeaned data, ``[y, x_1, ..., x_p]`` in that order,
as an array of shape (..., p + 1, p + 1), so a stack of bootstrap replicates is handled at once.
"""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np


def subset_r2(cross: np.ndarray) -> dict[frozenset[int], np.ndarray]:
    """R² of y on every subset of the drivers (0-based driver positions), for each matrix of the stack.

    Parameters
    ----------
    cross
        Cross-products of demeaned ``[y, x_1, ..., x_p]``, shape (..., p + 1, p + 1).

    Returns
    -------
    dict
        Subset -> R² (shape ``cross.shape[:-2]``); the empty subset has R² 0.
    """
    p = cross.shape[-1] - 1
    yy = cross[..., 0, 0]
    out: dict[frozenset[int], np.ndarray] = {frozenset(): np.zeros(cross.shape[:-2])}
    for size in range(1, p + 1):
        for subset in combinations(range(p), size):
            index = np.array(subset) + 1
            xx = cross[..., index[:, None], index[None, :]]
            xy = cross[..., index, 0]
            solved = np.linalg.solve(xx, xy[..., None])[..., 0]
            out[frozenset(subset)] = np.einsum("...i,...i->...", xy, solved) / yy
    return out


def shapley_shares(r2: dict[frozenset[int], np.ndarray], p: int) -> np.ndarray:
    """Shapley value (LMG) of each driver: its increment to R², averaged over every order the drivers can enter.

    Parameters
    ----------
    r2
        Subset -> R², as from :func:`subset_r2`.
    p
        Number of drivers.

    Returns
    -------
    ndarray
        Shape (..., p); the shares sum to the R² of all drivers.
    """
    shares = []
    for j in range(p):
        others = [k for k in range(p) if k != j]
        total = 0.0
        for size in range(p):
            weight = factorial(size) * factorial(p - size - 1) / factorial(p)
            for subset in combinations(others, size):
                before = frozenset(subset)
                total = total + weight * (r2[before | {j}] - r2[before])
        shares.append(total)
    return np.stack(shares, axis=-1)


def relative_weights(cross: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights: R² split through the orthogonal counterparts of the drivers.

    With R_xx the drivers' correlation matrix, Λ = R_xx^{1/2} (symmetric root) and
    β = Λ^{-1} r_xy, driver j's weight is Σ_k Λ_jk² β_k²; the weights sum to R².

    Parameters
    ----------
    cross
        Cross-products of demeaned ``[y, x_1, ..., x_p]``, shape (..., p + 1, p + 1).

    Returns
    -------
    ndarray
        Shape (..., p).
    """
    scale = np.sqrt(np.diagonal(cross, axis1=-2, axis2=-1))
    corr = cross / (scale[..., :, None] * scale[..., None, :])
    rxx, rxy = corr[..., 1:, 1:], corr[..., 1:, 0]
    values, vectors = np.linalg.eigh(rxx)
    root = np.einsum("...ik,...k,...jk->...ij", vectors, np.sqrt(np.clip(values, 0, None)), vectors)
    beta = np.linalg.solve(root, rxy[..., None])[..., 0]
    return np.einsum("...jk,...k->...j", root**2, beta**2)
