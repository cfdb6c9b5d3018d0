"""huey's `run_huey`, with its -V/--huey-verbose and -q/--quiet options taking effect.

huey sets the level of the "huey" logger only when that logger has no handler of its own;
config/settings.py gives it one (so that each line is printed once), which left both
options without effect. Here they set the level: -V debug, -q warnings and errors only,
neither the level of the logging settings (HUXIAO_LOG_LEVEL, through the root).
This app is listed before huey.contrib.djhuey, so `manage.py run_huey` is this command.
"""

from __future__ import annotations

import logging

from huey.contrib.djhuey.management.commands.run_huey import Command as HueyCommand


class Command(HueyCommand):
    def handle(self, *args, **options):
        verbose = options.get("verbose")
        if verbose is not None:
            logging.getLogger("huey").setLevel(logging.DEBUG if verbose else logging.WARNING)
        return super().handle(*args, **options)
