"""WSGI entry point of bench/gate.py's floor, served by granian exactly like config.wsgi.

granian --interface wsgi ... bench.gate_floor_app:application
"""

import os

from django.core.wsgi import get_wsgi_application

# Forced, not setdefault: the benchmark's environment names config.settings.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.gate_floor_settings"
application = get_wsgi_application()
