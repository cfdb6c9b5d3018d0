#!/usr/bin/env bash
# Installs what the benchmarks need: Debian's wrk (the HTTP load generator of bench/http_floor.py).
# Never a prebuilt binary from elsewhere: the machine is offline except for Debian's packages.
set -euo pipefail
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -eq 0 ]; then
    echo "install-bench-tools: wrk already present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-bench-tools: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
