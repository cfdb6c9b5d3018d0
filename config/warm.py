"""Warm a server process before it serves: load the URLconf (and with it every view module
and the data they hold, such as pypinyin's dictionaries for the phonetic search), then
move everything loaded so far out of the garbage collector's sight (`gc.freeze`).

A warm worker holds some 480,000 long-lived objects; without this, a full collection
walks all of them every few requests — about 170 ms measured in bench/activities, far above
the alarm path's p99 budget. Frozen objects are never collected (they live as long as the
process anyway) and, in workers forked after this, stay shared copy-on-write.
"""

from __future__ import annotations

import gc


def warm_and_freeze() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module
    gc.collect()
    gc.freeze()
