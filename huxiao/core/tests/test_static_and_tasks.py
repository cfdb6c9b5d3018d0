import hashlib
import json
import re
from pathlib import Path

from django.conf import settings

STATIC = Path(settings.BASE_DIR) / "huxiao" / "static"


def test_vendored_assets_match_their_manifest():
    manifest = json.loads((STATIC / "vendor" / "manifest.json").read_text())
    assert {
        "vendor/htmx/htmx.min.js",
        "vendor/pico/pico.min.css",
        "vendor/echarts/echarts.min.js",
    } <= set(manifest)
    for path, entry in manifest.items():
        digest = hashlib.sha256((STATIC / path).read_bytes()).hexdigest()
        assert digest == entry["sha256"], path
        assert entry["license"] and entry["version"]


def test_no_template_loads_anything_from_the_internet():
    remote = re.compile(r"""(src|href)=["'](https?:)?//""", re.I)
    offenders = []
    for template in Path(settings.BASE_DIR, "huxiao").rglob("*.html"):
        if remote.search(template.read_text(encoding="utf-8")):
            offenders.append(str(template))
    assert offenders == []


def test_periodic_purge_of_login_failures(db):
    import datetime as dt

    from django.utils import timezone

    from huxiao.accounts.models import LoginFailure
    from huxiao.accounts.tasks import purge_old_login_failures

    old = LoginFailure.objects.create(
        username="a", ip="1.2.3.4", at=timezone.now() - dt.timedelta(days=2)
    )
    fresh = LoginFailure.objects.create(username="a", ip="1.2.3.4", at=timezone.now())
    purge_old_login_failures.call_local()
    assert not LoginFailure.objects.filter(pk=old.pk).exists()
    assert LoginFailure.objects.filter(pk=fresh.pk).exists()


def test_websocket_url_given_to_pages(world, client):
    client.force_login(world.users["principal"])
    response = client.get("/")
    assert response.context["websocket_url"] == "ws://testserver:8001/ws/"
