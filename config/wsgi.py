"""WSGI entry point: all HTTP is served here (granian), see ADR 0002."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # what get_wsgi_application() does before its handler

# Django's handler, with a lane for the gate terminals' hot requests (ADR 0022).
from huxiao.access.gate_lane import GateWSGIHandler  # noqa: E402

application = GateWSGIHandler()

from config.warm import warm_and_freeze  # noqa: E402

warm_and_freeze()
