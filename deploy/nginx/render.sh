#!/usr/bin/env bash
# Renders deploy/nginx/huxiao.conf (or the template given) on stdout: every
# ${HUXIAO_NGINX_*} placeholder from the environment, nothing else (nginx's own $variables
# stay). Refuses when a placeholder's variable is unset or empty, rather than writing a
# config with a hole in it. The scale-mode test (tests/scale) renders with this script too.
#
#   set -a; . /etc/huxiao/nginx.env; set +a
#   deploy/nginx/render.sh > /etc/nginx/sites-available/huxiao.conf
set -euo pipefail
template="${1:-$(dirname "$0")/huxiao.conf}"
command -v envsubst >/dev/null || { echo "render.sh: envsubst missing (apt-get install gettext-base)" >&2; exit 1; }
names=$(grep -o '\${HUXIAO_NGINX_[A-Z0-9_]*}' "$template" | sort -u | tr -d '${}')
missing=()
for name in $names; do
    [ -n "${!name:-}" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "render.sh: set ${missing[*]}" >&2
    exit 1
fi
shell_format=""
for name in $names; do shell_format+="\${$name} "; done
envsubst "$shell_format" < "$template"
