"""Settings of bench/gate.py's floor: the project's settings less every middleware (as
bench/floor_settings.py), with the one-row-insert view of bench/gate_floor.py as URLconf."""

from bench.floor_settings import *  # noqa: F403

ROOT_URLCONF = "bench.gate_floor"
