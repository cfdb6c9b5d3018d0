#!/usr/bin/env bash
# Installs what `manage.py backup` and `manage.py restore` need on PostgreSQL (ADR 0034):
# pg_dump and pg_restore of the server's major version (an older pg_dump refuses a newer
# server). SQLite backups need nothing beyond Python.
#   PG_MAJOR=16 scripts/install-ops-tools.sh   another major (postgresql-client-16)
# Without PG_MAJOR: the major of a PostgreSQL server installed on this machine, else
# Debian's default client. Idempotent and quick when present; `.ci/run` calls it.
set -euo pipefail
major="${PG_MAJOR:-}"
if [ -z "$major" ] && [ -d /usr/lib/postgresql ]; then
    major=$(ls /usr/lib/postgresql | sort -n | tail -1)
fi
if [ -n "$major" ]; then
    if [ -x "/usr/lib/postgresql/$major/bin/pg_dump" ] && [ -x "/usr/lib/postgresql/$major/bin/pg_restore" ]; then
        echo "install-ops-tools: pg_dump and pg_restore $major already present"
        exit 0
    fi
    pkg="postgresql-client-$major"
else
    if command -v pg_dump >/dev/null && command -v pg_restore >/dev/null; then
        echo "install-ops-tools: $(pg_dump --version) already present"
        exit 0
    fi
    pkg="postgresql-client"
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-ops-tools: installing $pkg"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "$pkg"
