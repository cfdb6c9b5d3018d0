#!/usr/bin/env bash
# Soak test (issue 11): `manage.py serve` on a database of its own under mixed load for
# 10 minutes (or --minutes N), watching errors and each process's memory. Prints the JSON
# report and writes var/bench/soak.json; exits 1 on any error or RSS growth of 10 % or more.
#   scripts/soak.sh                   # SQLite, 10 minutes
#   scripts/soak.sh --minutes 30      # longer
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/x REDIS_URL=redis://127.0.0.1:6379/13 \
#       scripts/soak.sh               # scale mode (a Redis database number of its own)
# It runs at low priority (nice) so that a developer's machine stays usable.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || make .venv/.installed
exec nice -n "${SOAK_NICE:-5}" .venv/bin/python bench/soak.py "$@"
