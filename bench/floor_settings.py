"""Settings of the floor app: the project's settings, less every middleware.

The same database (and connection settings), templates, apps and language; no middleware and
a URLconf of two bare views (bench/floor_views.py).
"""

from config.settings import *  # noqa: F403

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.floor_views"
