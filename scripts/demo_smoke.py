"""Smoke check of a running demo (`make run`): every demo user logs in and sees their scope.

    .venv/bin/python scripts/demo_smoke.py [http://127.0.0.1:8000]

Logs in through the login page (as a browser would) and through the API, then prints, per
user, the home page title and the schools the API lists. Exits non-zero on any failure.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import sys
import urllib.parse
import urllib.request

USERS = [
    "county",
    "police",
    "officer",
    "principal",
    "guard",
    "teacher",
    "principal2",
    "edu",
    "gov",
    "health",
]
PASSWORD = "huxiao-demo"  # demo mode only; published in the README


def _page_login(base: str, username: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": base}
    )
    home = opener.open(request).read().decode()
    title = re.search(r'data-testid="home-title">([^<]+)<', home)
    if not title:
        raise SystemExit(f"{username}: login did not reach a home page")
    return title.group(1)


def _api_schools(base: str, username: str) -> list[str]:
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}
    )
    token = json.loads(urllib.request.urlopen(request).read())["token"]
    request = urllib.request.Request(
        f"{base}/api/v1/schools?limit=200", headers={"Authorization": f"Bearer {token}"}
    )
    return [s["name"] for s in json.loads(urllib.request.urlopen(request).read())["items"]]


def main() -> None:
    base = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise SystemExit("give an http(s) address")
    report = {}
    for username in USERS:
        report[username] = {
            "home": _page_login(base, username),
            "schools": _api_schools(base, username),
        }
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
