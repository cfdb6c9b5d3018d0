#!/usr/bin/env bash
# Installs what the scale-mode deployment test (tests/scale) needs: Debian's nginx, the same
# reverse proxy deploy/nginx/huxiao.conf is written for, and openssl for its throwaway TLS
# certificate, and envsubst (gettext-base) with which deploy/nginx/render.sh fills in the
# template. The test starts nginx itself in the foreground on loopback ports; the
# package's own service is left as Debian installs it.
# Idempotent and quick when everything is present; `.ci/run` calls it.
set -euo pipefail
need=()
# Debian 12's nginx has all the template uses (ssl, http_v2, gzip_static, upstream zones);
# /usr/sbin is not on every user's PATH.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v envsubst >/dev/null 2>&1 || need+=(gettext-base)
if [ ${#need[@]} -eq 0 ]; then
    echo "install-deploy-tools: nginx, openssl and envsubst already present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deploy-tools: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
