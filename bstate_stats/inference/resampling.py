"""Team-cluster resampling: whole teams drawn with replacement, each copy a distinct team."""

from __future__ import annotations

import numpy as np
import pandas as pd


class TeamResampler:
    """Team-cluster bootstrap samples of a frame indexed by (team, t): teams drawn with replacement, each copy a distinct team."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.positions = frame.groupby(level="team", sort=False).indices
        self.t = frame.index.get_level_values("t").to_numpy()

    def sample(self, draw: np.ndarray) -> pd.DataFrame:
        chosen = [self.positions.get(team, np.array([], dtype=int)) for team in draw]
        rows = np.concatenate(chosen)
        labels = np.repeat([f"{team}#{k}" for k, team in enumerate(draw)], [len(c) for c in chosen])
        index = pd.MultiIndex.from_arrays([labels, self.t[rows]], names=["team", "t"])
        return self.frame.iloc[rows].set_axis(index)


def team_bootstrap_counts(n_teams: int, reps: int, seed: int) -> np.ndarray:
    """How many times each team is drawn in each team-cluster bootstrap replicate (reps x teams), from ``seed``.

    Parameters
    ----------
    n_teams
        Teams to resample.
    reps
        Replicates.
    seed
        Seed: the same seed gives the same replicates, so a later summary can pair its draws with an earlier fit's.

    Returns
    -------
    numpy.ndarray
        Integer counts; each row sums to ``n_teams``.
    """
    return np.random.default_rng(seed).multinomial(n_teams, np.full(n_teams, 1 / n_teams), size=reps)

