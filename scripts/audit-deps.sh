#!/usr/bin/env bash
# Known vulnerabilities in the pinned dependencies (requirements/constraints.txt), by
# pip-audit in a virtual environment of its own (.tools/pip-audit), ADR 0034.
#
# Exit 1 when a pinned version has a known vulnerability. pip-audit needs an advisory
# service (PyPI's JSON API or OSV); where neither answers, every package comes back
# "not found" and nothing was audited: the script says so plainly ("NOT AUDITED") and
# exits 0, or 3 with AUDIT_REQUIRED=1 (a release machine that must not skip the audit).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOL=.tools/pip-audit
PIP_AUDIT_VERSION=2.10.1
not_audited() {
    echo "audit-deps: NOT AUDITED: $1"
    if [ "${AUDIT_REQUIRED:-0}" = "1" ]; then exit 3; fi
    exit 0
}
installed=$("$TOOL/bin/pip-audit" --version 2>/dev/null | awk '{print $2}' || true)
if [ "$installed" != "$PIP_AUDIT_VERSION" ]; then
    rm -rf "$TOOL"
    python3 -m venv "$TOOL" && "$TOOL/bin/pip" install --quiet --disable-pip-version-check \
        "pip-audit==$PIP_AUDIT_VERSION" \
        || not_audited "pip-audit $PIP_AUDIT_VERSION could not be installed (no package index?)"
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
"$TOOL/bin/pip-audit" -r requirements/constraints.txt --no-deps --disable-pip \
    --progress-spinner off --timeout 20 -f json -o "$report" 2>/dev/null
status=$?
set -e
"$TOOL/bin/python" - "$report" "$status" <<'PY'
import json
import os
import sys

path, status = sys.argv[1], int(sys.argv[2])
try:
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
except (OSError, ValueError):
    print(f"audit-deps: pip-audit gave no report (exit {status})")
    sys.exit(status or 1)
deps = report.get("dependencies", [])
audited = [d for d in deps if "skip_reason" not in d]
vulnerable = [d for d in audited if d.get("vulns")]
for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
        print(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixed})")
if vulnerable:
    print(f"audit-deps: {len(vulnerable)} of {len(deps)} pinned packages have known vulnerabilities")
    sys.exit(1)
if deps and not audited:
    print(
        f"audit-deps: NOT AUDITED: the advisory service did not answer for any of the "
        f"{len(deps)} pinned packages (closed network?); run `make audit` where PyPI is reachable"
    )
    sys.exit(3 if os.environ.get("AUDIT_REQUIRED") == "1" else 0)
print(f"audit-deps: {len(audited)} of {len(deps)} pinned packages audited, no known vulnerability")
sys.exit(0)
PY
