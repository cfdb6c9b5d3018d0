"""Cluster rules and alerts (stub: built by the surveillance area)."""

from __future__ import annotations


def clusters_evaluate(*, school_ids=None, today=None) -> list:
    return []


def alert_for_case(case):
    """A suspected notifiable disease alerts at once (called on commit by the case area)."""
    return None
