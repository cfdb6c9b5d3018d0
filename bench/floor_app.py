"""WSGI entry point of the floor app, served by granian exactly like config.wsgi.

granian --interface wsgi ... bench.floor_app:application
"""

import os

from django.core.wsgi import get_wsgi_application

# Forced, not setdefault: the benchmark's environment may name config.settings.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.floor_settings"
application = get_wsgi_application()
