"""Recompute stats from events: the other half of invariant I1 (``ledger.recompute``)."""

from ledger.recompute import StatsValues, recompute_stats, recompute_stats_for

__all__ = ["StatsValues", "recompute_stats", "recompute_stats_for"]
