"""A bounded crawler over every server-rendered page, as several roles, with hostile input.

The REST API is fuzzed by Schemathesis (test_openapi_fuzz.py); the HTML pages have no
schema, so this file walks the root URLconf instead: one test per URL pattern outside
/api/v1/, named after the pattern. The world is the demo township (`manage.py demo`), so
that every page has records to show and to change. Each pattern gets concrete URLs — a
record of the world where the converter's name gives its model away (999999999 where none
does), then values the converter takes that name nothing: a number past any database
integer, a NUL byte, 5,000 characters — and is sent, anonymously, as a school principal, a
police commander and the role that works its app:

- GET with hostile query parameters: negative and non-numeric pages, impossible dates, a
  5,000-character search with a NUL byte, unknown statuses and sorts, format=xlsx;
- POST with no data, then with every field name the page forms declare (from the Form
  classes of huxiao/**/forms.py and the keys views read off the request by hand) set to
  values the field accepts but the code behind it must still handle (another town's
  records, 9999-12-31, numbers past any column, a `next` that is not a path, a real image),
  to values no field accepts (0000-00-00, non-numeric ids, a file that is not an image),
  or to NUL bytes and 10,000 characters; with and without HX-Request.

Every answer must be below 500 and no view may raise (the test client re-raises, so the
traceback is the failure); a refused request (4xx) must leave nothing written. Each request
runs in a savepoint that is rolled back: the requests are independent of each other and of
their order. Deterministic: no randomness. Bounded: a role refused with an empty body is not
sent the others, a method answered 405 is not sent again.
"""

from __future__ import annotations

import importlib
import io
import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.test.client import encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver

# ------------------------------------------------------------------ the URL patterns

EXCLUDED_PREFIXES = ("api/", "static/", "media/", "admin/")


def _walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = entry.namespace or ""
            yield from _walk_ns(entry, prefix + str(entry.pattern), namespace)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name or "", entry


def _walk_ns(resolver, prefix, namespace):
    for route, name, entry in _walk(resolver, prefix):
        yield route, f"{namespace}:{name}" if namespace and name else name, entry


def _patterns() -> list[tuple[str, str, str]]:
    """(label, route, view) for every page pattern; the label is the URL name, or the
    route; the view is the dotted path of the view function (its module names the app)."""
    found = []
    seen = set()
    for route, name, entry in _walk(get_resolver()):
        if route.startswith(EXCLUDED_PREFIXES) or route.startswith("^"):
            continue
        label = name or route
        if label in seen:  # the same name twice: tell them apart by route
            label = f"{label}@{route}"
        seen.add(label)
        found.append((label, route, entry.lookup_str))
    return found


PATTERNS = _patterns()
CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")

# ------------------------------------------------------------------ hostile values

BOUNDARY = "HuXiaoPageFuzzBoundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"

NUL_TEXT = "A\x00B"
LONG_TEXT = "x" * 10_000
HUGE_NUMBER = "99999999999999999999"  # past any database integer
MISSING_ID = "999999999"

# Query parameters a list page may read, with values none of them can use.
HOSTILE_QUERIES = [
    {
        "page": "-1",
        "date": "2026-13-45",
        "from": "0000-00-00",
        "to": "garbage",
        "school_id": "abc",
        "school": "abc",
        "town": "abc",
        "q": "\x00" + "查" * 5_000,
        "status": "garbage",
        "sort": "garbage",
        "format": "xlsx",
        "month": "2026-13",
        "week_start": "0000-00-00",
        "next": "https://evil.example/",
        "kind": "garbage",
    },
    {
        "page": "abc",
        "date": "\x00",
        "from": "9999-12-31",
        "to": "0001-01-01",
        "school_id": HUGE_NUMBER,
        "school": HUGE_NUMBER,
        "town": "-1",
        "q": "%\x00_' OR 1=1 --",
        "status": "\x00",
        "sort": "-\x00",
        "format": "xlsx",
        "month": "\x00",
        "year": "-1",
        "period": "garbage",
        "region": "abc",
        "station": HUGE_NUMBER,
    },
]


def _sources():
    """The project's modules outside tests and migrations: (dotted name, path)."""
    import huxiao

    root = Path(huxiao.__path__[0])
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if "tests" not in parts and "migrations" not in parts:
            yield ".".join(parts), path


def _form_fields() -> dict[str, forms.Field]:
    """Every field of every page form (huxiao/**/forms.py, *_forms.py), by name; the first
    declaration of a name wins."""
    fields: dict[str, forms.Field] = {}
    for name, _path in _sources():
        if not name.endswith(("forms", "_forms")):
            continue
        for obj in vars(importlib.import_module(name)).values():
            if isinstance(obj, type) and issubclass(obj, forms.BaseForm):
                for field_name, form_field in obj.base_fields.items():
                    fields.setdefault(field_name, form_field)
    return fields


def _posted_keys() -> set[str]:
    """The keys views read off the request by hand (`request.POST.get("next")`)."""
    read = re.compile(r"""\.(?:POST|GET|data)\.(?:get|getlist)\(\s*["'](\w+)["']""")
    keys: set[str] = set()
    for _name, path in _sources():
        keys.update(read.findall(path.read_text(encoding="utf-8")))
    return keys


# A 1×1 PNG: the accepted body's image, so that the code behind an upload runs.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _upload(name: str, *, valid: bool) -> SimpleUploadedFile:
    # Either a real image, or one that claims to be an image and a spreadsheet and is not.
    content = PNG if valid else b"\x89PNG\r\n\x1a\n\x00garbage" * 8
    return SimpleUploadedFile(name, content, content_type="image/png")


def _first_choice(form_field) -> str | None:
    for value, label in getattr(form_field, "choices", ()):
        if isinstance(label, list | tuple):  # a group: its first option
            value = label[0][0] if label else None
        if value not in (None, ""):
            return str(value)
    return None


def _looks_like_id(key: str) -> bool:
    return key.endswith("_id") or key in {"id", "school", "town", "child", "staff", "visit"}


def _looks_like_date(key: str) -> bool:
    return "date" in key or key.endswith(("_on", "_at", "_start", "_end")) or key == "month"


def _accepted_value(form_field, key: str, far_ids: dict[str, str]):
    """A value the field itself accepts and the code behind it must still handle: another
    school's record, the last day of year 9999, a number past any database column, a
    `next` that is not a path."""
    far = far_ids.get("")
    if isinstance(form_field, forms.ModelMultipleChoiceField | forms.ModelChoiceField):
        queryset = form_field.queryset
        label = queryset.model._meta.label_lower if queryset is not None else ""
        value = far_ids.get(label, far)
        return [value] if isinstance(form_field, forms.ModelMultipleChoiceField) else value
    if isinstance(form_field, forms.MultipleChoiceField):
        return [_first_choice(form_field) or "garbage"]
    if isinstance(form_field, forms.ChoiceField):
        return _first_choice(form_field) or "garbage"
    if isinstance(form_field, forms.DateTimeField):
        return "9999-12-31 23:59"
    if isinstance(form_field, forms.DateField):
        return "9999-12-31"
    if isinstance(form_field, forms.TimeField):
        return "23:59"
    if isinstance(form_field, forms.DurationField):
        return "999999999 days"
    if isinstance(form_field, forms.IntegerField | forms.FloatField | forms.DecimalField):
        return HUGE_NUMBER
    if isinstance(form_field, forms.BooleanField | forms.NullBooleanField):
        return "on"
    if form_field is None and _looks_like_id(key):
        return far
    if form_field is None and _looks_like_date(key):
        return "9999-12-31"
    return "-1"


def _refused_values(form_field, key: str) -> list:
    """Values no field may accept; field n of a body takes value n % len."""
    if isinstance(form_field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
        return [["abc", HUGE_NUMBER], ["-1", NUL_TEXT]]
    if isinstance(form_field, forms.ModelChoiceField) or (
        form_field is None and _looks_like_id(key)
    ):
        return ["abc", HUGE_NUMBER, "-1", NUL_TEXT]
    if isinstance(form_field, forms.DateTimeField | forms.DateField) or (
        form_field is None and _looks_like_date(key)
    ):
        return ["0000-00-00", "2026-13-45", "2026-02-30 25:61", "0001-01-01"]
    if isinstance(form_field, forms.TimeField):
        return ["25:61", "24:00", "-1"]
    if isinstance(form_field, forms.IntegerField | forms.FloatField | forms.DecimalField):
        return ["-1", "1e309", "NaN", "abc", "-" + HUGE_NUMBER]
    if isinstance(form_field, forms.ChoiceField | forms.BooleanField | forms.NullBooleanField):
        return ["garbage", NUL_TEXT]
    if isinstance(form_field, forms.JSONField):
        return ["{", '{"a": [1e999]}']
    return ["-1\x00", "\x00"]


@dataclass
class Garbage:
    """The bodies a POST is sent with, every field name of every page form in each:

    - "empty": nothing at all;
    - "accepted": what each field accepts but the code behind it must still handle
      (`_accepted_value`), so that a form can pass and hand hostile values to its service;
    - "refused": what no field accepts (`_refused_values`), so that every form fails;
    - "nul": a NUL in every field and 10,000 characters in every text.
    """

    fields: dict[str, forms.Field]
    keys: set[str]
    far_ids: dict[str, str]  # model label → pk of another town's record ("": its school)
    _encoded: dict = field(default_factory=dict)

    def encoded(self, variant: str) -> bytes:
        """The multipart body of a variant, encoded once: the bodies are large and every
        page gets the same ones."""
        if variant not in self._encoded:
            self._encoded[variant] = encode_multipart(BOUNDARY, self.body(variant))
        return self._encoded[variant]

    def body(self, variant: str) -> dict:
        if variant == "empty":
            return {}
        data = {}
        for position, key in enumerate(sorted(set(self.fields) | self.keys)):
            form_field = self.fields.get(key)
            if isinstance(form_field, forms.FileField):
                data[key] = _upload(f"{key}.png", valid=variant == "accepted")
            elif variant == "accepted":
                data[key] = _accepted_value(form_field, key, self.far_ids)
            elif variant == "refused":
                values = _refused_values(form_field, key)
                data[key] = values[position % len(values)]
            else:  # nul: 10,000 characters where a text is expected, a NUL elsewhere
                long = form_field is None or type(form_field) is forms.CharField
                data[key] = NUL_TEXT + LONG_TEXT if long else NUL_TEXT
        return data


# ------------------------------------------------------------------ the world

# The roles the crawler plays: demo township logins (huxiao/demo/township.py DEMO_USERS),
# so that every page has records of its own to show and to change.
ROLES = {
    "anonymous": None,
    "principal": "principal",  # 大杨树实验幼儿园, principal
    "guard": "guard",  # the kindergarten's gate
    "police": "police",  # 大杨树派出所, commander
    "officer": "officer",  # police officer and legal vice-principal
    "edu": "edu",  # the town's education office
    "county": "county",  # the county's governance centre
    "health": "health",  # the town's health centre
}
HOME_SCHOOL = "大杨树实验幼儿园"
FAR_SCHOOL = "柳河镇中心小学"  # another town, another station: out of everyone's scope


@dataclass
class PageWorld:
    cookies: dict  # role → session cookies (empty: anonymous)
    ids: dict  # model label → pk of a record, the home school's where it has one
    garbage: Garbage


@pytest.fixture(scope="module")
def page_world(django_db_setup, django_db_blocker):
    """The demo township with every app's records (`manage.py demo`), loaded once for the
    module inside a transaction that is rolled back at the end."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import override_settings

    from huxiao.incidents.tests.factories import IncidentFactory
    from huxiao.orgs.models import Organization

    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEMO_MODE=True):
            call_command("demo", stdout=io.StringIO())
        home = Organization.objects.get(name=HOME_SCHOOL)
        IncidentFactory(school=home, title="爬虫事件")  # the demo has none open
        far = Organization.objects.get(name=FAR_SCHOOL)
        users = {
            u.username: u for u in get_user_model().objects.filter(username__in=ROLES.values())
        }
        cookies = {}
        for role, username in ROLES.items():
            client = Client()
            if username is not None:
                client.force_login(users[username])
            cookies[role] = {name: morsel.value for name, morsel in client.cookies.items()}
        far_ids = {label: str(pk) for label, pk in _records_of(far, or_first=False).items()}
        garbage = Garbage(
            fields=_form_fields(), keys=_posted_keys(), far_ids={"": str(far.pk), **far_ids}
        )
        # Check the deferred foreign keys of the world now, once: PostgreSQL would check
        # them all again at the end of every test (TestCase's teardown), as a savepoint
        # rolled back returns them to pending.
        connection.check_constraints()
        yield PageWorld(cookies=cookies, ids=_records_of(home, or_first=True), garbage=garbage)
        transaction.set_rollback(True)


def _records_of(school, *, or_first: bool) -> dict:
    """{model label: pk} of a record of the school for every model that has a school
    (the school itself for organizations); with `or_first`, the first record of every other
    model too."""
    from django.apps import apps

    ids = {}
    for model in apps.get_models():
        rows = model._base_manager.order_by("pk")
        field_names = {f.name for f in model._meta.get_fields()}
        pk = None
        if "school" in field_names:
            pk = rows.filter(school=school).values_list("pk", flat=True).first()
        if pk is None and or_first:
            pk = rows.values_list("pk", flat=True).first()
        if pk is not None:
            ids[model._meta.label_lower] = pk
    ids["orgs.organization"] = school.pk
    ids["orgs.town"] = school.town_id
    return ids


# ------------------------------------------------------------------ concrete URLs


def _model_for(view: str, kwarg: str, route: str) -> str | None:
    """The model a path converter names, guessed from its name and the view's app:
    `hazard_id` in huxiao.hazards → hazards.hazard; `member_id` → a model of the app whose
    name ends in "member"; `<int:pk>` after "buses/" → a model named "bus"."""
    from django.apps import apps

    stem = kwarg.removesuffix("_id")
    if kwarg == "pk":
        segments = route.split("/")
        stem = segments[segments.index("<int:pk>") - 1]
        stem = stem[:-2] if stem.endswith("ses") else stem.removesuffix("s")
    stem = {"school": "organization", "class": "schoolclass"}.get(stem, stem)
    wanted = stem.replace("_", "")
    app_label = view.split(".")[1] if view.startswith("huxiao.") else ""
    models = apps.get_models()
    for match in (
        lambda m: m._meta.app_label == app_label and m._meta.model_name == wanted,
        lambda m: m._meta.app_label == app_label and m._meta.model_name.endswith(wanted),
        lambda m: m._meta.model_name == wanted and m.__module__.startswith("huxiao."),
    ):
        found = [m._meta.label_lower for m in models if match(m)]
        if found:
            return found[0]
    return None


def _own_ids(route: str, view: str, world: PageWorld) -> dict[str, str]:
    """Each int converter filled with a record of the world; a later converter takes a
    record that belongs to the earlier one where its model points at it (a member of that
    incident, an item of that inspection)."""
    from django.apps import apps

    chosen: dict[str, object] = {}  # kwarg → (label, pk)
    values = {}
    for kind, name in CONVERTER.findall(route):
        if kind != "int":
            continue
        label = _model_for(view, name, route)
        pk = world.ids.get(label) if label else None
        if label and chosen:
            model = apps.get_model(label)
            for field in model._meta.concrete_fields:
                target = getattr(field.remote_field, "model", None)
                for parent_label, parent_pk in chosen.values():
                    if target is not None and target._meta.label_lower == parent_label:
                        row = (
                            model._base_manager.filter(**{field.attname: parent_pk})
                            .order_by("pk")
                            .values_list("pk", flat=True)
                            .first()
                        )
                        pk = row if row is not None else pk
        chosen[name] = (label, pk)
        values[name] = str(pk) if pk is not None else MISSING_ID
    return values


def _urls(route: str, view: str, world: PageWorld) -> dict[str, str]:
    """{label: path}: the world's own records first, then values that name nothing."""
    converters = CONVERTER.findall(route)
    own_ids = _own_ids(route, view, world)

    def build(fill) -> str:
        return "/" + CONVERTER.sub(lambda m: fill(m.group("kind") or "str", m.group("name")), route)

    def own(kind, name):
        if kind == "int":
            return own_ids[name]
        return {"slug": "garbage-step", "path": "garbage/path"}.get(kind, "garbage")

    urls = {"own": build(own)}
    kinds = {kind or "str" for kind, _name in converters}
    if "int" in kinds:
        urls["huge"] = build(lambda kind, name: HUGE_NUMBER if kind == "int" else own(kind, name))
    if kinds & {"str", "path"}:
        text = {"str", "path"}
        urls["nul"] = build(lambda kind, name: "%00" if kind in text else own(kind, name))
        urls["long"] = build(lambda kind, name: "长" * 5_000 if kind in text else own(kind, name))
    if "slug" in kinds:
        urls["long-slug"] = build(
            lambda kind, name: "a" * 5_000 if kind == "slug" else own(kind, name)
        )
    return urls


# ------------------------------------------------------------------ writes left behind

WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
SAVEPOINT = re.compile(r'^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\s+"?(\w+)"?', re.I)
# What a refused request may still write: the session (its idle stamp, flash messages), the
# audit trail (a refused read of a sensitive register is itself recorded), and records a
# page creates with their defaults the first time it is read, whatever was posted.
MAY_WRITE_WHEN_REFUSED = {
    "django_session",
    "audit_auditevent",
    "security_compliancerule",
}


class WriteTracer:
    """The tables written by statements that outlive their savepoints."""

    def __init__(self):
        self.frames: list[tuple[str, set]] = [("root", set())]

    def __call__(self, execute, sql, params, many, context):
        text = sql if isinstance(sql, str) else str(sql)
        savepoint = SAVEPOINT.match(text)
        if savepoint:
            verb, name = savepoint.group(1).upper(), savepoint.group(2)
            if verb == "SAVEPOINT":
                self.frames.append((name, set()))
            else:  # released: its writes stay with the outer frame; rolled back: gone
                while len(self.frames) > 1:
                    frame_name, tables = self.frames.pop()
                    if verb.startswith("RELEASE"):
                        self.frames[-1][1].update(tables)
                    if frame_name == name:
                        break
        else:
            write = WRITE.match(text)
            if write:
                self.frames[-1][1].add(write.group(2).lower())
        return execute(sql, params, many, context)

    @property
    def written(self) -> set:
        return set().union(*(tables for _name, tables in self.frames))


# ------------------------------------------------------------------ the crawl

# Every pattern is crawled anonymously, as a school principal and a police commander, and
# as the role that works its app beside them (the gate guard for the gate, the health
# centre for health, …): all eight roles on every pattern would not fit the time budget.
EVERY_PATTERN = ("principal", "police")
ROLE_BY_APP = {
    "access": "guard",
    "alarms": "guard",
    "audit": "county",
    "drills": "county",  # the county keeps the terms and activity rules
    "duty": "guard",
    "hazards": "edu",
    "health": "health",
    "incidents": "officer",
    "intel": "officer",
    "patrols": "guard",  # the gate posts; the police side is the commander's
    "reports": "county",
    "security": "county",  # the county keeps the compliance rules
    "supervision": "edu",
    "transport": "officer",
}


def _roles_for(view: str) -> tuple[str, ...]:
    app = view.split(".")[1] if view.startswith("huxiao.") else ""
    return (*EVERY_PATTERN, ROLE_BY_APP.get(app, "edu"))


def _refused(response) -> bool:
    """Turned away before the view read anything: not allowed, not this method, or sent
    to the login page (a plain redirect, or htmx's 204 with HX-Redirect)."""
    if response.status_code in (401, 403, 405):
        return True
    login = str(resolve_url(settings.LOGIN_URL))
    target = response.get("Location") or response.get("HX-Redirect") or ""
    return response.status_code in (204, 302) and target.startswith(login)


def _send(client, method, path, variant, htmx, world):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    if method == "GET":
        return client.get(path, data=HOSTILE_QUERIES[variant], **headers)
    if variant == "accepted":  # for a page that goes back where the Referer says
        headers["HTTP_REFERER"] = "-1"
    return client.post(path, data=world.garbage.encoded(variant), content_type=MULTIPART, **headers)


def _consume(response) -> None:
    """Streamed answers (exports) are produced while they are read: read them, so that
    their errors count too. (Not response.close(): the client has closed it, or closes it
    at the end of the stream; closing again would signal the end of a request outside the
    client, and close the test's database connection on PostgreSQL.)"""
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)


def _crawl(urls: dict[str, str], roles: tuple[str, ...], world: PageWorld) -> list[str]:
    """Send every request of one pattern; what went wrong."""
    failures: list[str] = []
    clients = {}
    not_allowed: set[str] = set()  # methods a signed-in role got 405 for

    def send(role, url_label, method, variant, htmx):
        if method in not_allowed:
            return None
        client = clients.get(role)
        if client is None:
            client = clients[role] = Client(raise_request_exception=True)
        client.cookies = SimpleCookie(world.cookies[role])  # a logout is rolled back too
        path = urls[url_label]
        what = f"{role} {method} {path[:150]} [{variant}{', htmx' if htmx else ''}]"
        tracer = WriteTracer()
        try:
            with transaction.atomic():
                with connection.execute_wrapper(tracer):
                    response = _send(client, method, path, variant, htmx, world)
                    _consume(response)
                transaction.set_rollback(True)
        except Exception as exc:
            raise AssertionError(f"{what} raised {exc!r}") from exc
        status = response.status_code
        if status >= 500:
            failures.append(f"{what} → {status}")
        elif status >= 400 and (left := tracer.written - MAY_WRITE_WHEN_REFUSED):
            failures.append(f"{what} → {status} but wrote {sorted(left)}")
        if status == 405 and role != "anonymous":
            not_allowed.add(method)
        return response

    # The short query: a 5,000-character one would make the login redirect too long (a
    # 400), and a page that requires a login would not be told apart from a public one.
    page = send("anonymous", "own", "GET", 1, False)
    if page is None or not _refused(page):
        send("anonymous", "own", "POST", "refused", True)  # the public pages' forms
    for index, role in enumerate(roles):
        send(role, "own", "GET", index % 2, bool(index % 2))
        # An empty body first, and nothing more if it is refused: a role refused with it is
        # refused with any. The app's own role goes straight to an accepted body.
        if role in EVERY_PATTERN:
            probe = send(role, "own", "POST", "empty", not index % 2)
            if probe is None or _refused(probe):
                continue
            # Without htmx: a write that succeeds redirects, where `next` is followed.
            send(role, "own", "POST", "accepted", False)
        else:
            probe = send(role, "own", "POST", "accepted", True)
            if probe is None or _refused(probe):
                continue
        if probe.status_code == 404:  # out of scope: one body with ids in it is enough
            continue
        # The principal's and the app role's texts get the NUL, the police's fields the
        # values no field accepts.
        send(role, "own", "POST", "refused" if role == "police" else "nul", True)
    for url_label in list(urls)[1:]:  # one request each for the paths that name nothing
        if send("principal", url_label, "GET", 0, False) is None:
            send("police", url_label, "POST", "refused", True)
    return failures


@pytest.mark.parametrize(("label", "route", "view"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_page(label, route, view, page_world, db):
    failures = _crawl(_urls(route, view, page_world), _roles_for(view), page_world)
    assert not failures, "\n".join(failures)
