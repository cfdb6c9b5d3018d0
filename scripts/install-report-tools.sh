#!/usr/bin/env bash
# Installs what PDF reports need (ADR 0033): Pango for WeasyPrint, the Noto CJK fonts that
# the PDFs embed, and poppler-utils (pdftotext, pdffonts) with which the tests read them.
# Idempotent and quick when everything is present; `make run` and `.ci/run` call it.
set -euo pipefail
need=()
for pkg in fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fontconfig; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
    echo "install-report-tools: fonts-noto-cjk, poppler-utils and Pango already present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-report-tools: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
