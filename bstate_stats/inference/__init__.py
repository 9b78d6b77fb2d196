"""Shared inference machinery used by several model families: the wild cluster bootstrap and team-cluster resampling."""
