"""Cluster rules and alerts (stub: built by the surveillance area)."""

from __future__ import annotations


def clusters_evaluate(*, school_ids=None, today=None) -> list:
    return []
