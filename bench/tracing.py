"""bench/tracing: contact tracing, cluster evaluation and the morning-check page (issue 9).

A generated county (bench/tracing_seed.py): 1,000 schools over 12 towns with ~3 weeks of
symptom events (a few clusters planted), and in it one boarding primary school traced in
detail: 3,000 children in 100 classes, 14 school days of attendance and absences, morning
checks at shared check points (children 10–20 s apart in the queue), lunch tables, bus trips
with boarding rows and dormitory rooms, and 60 suspected cases. Targets of issue 9 and what
is measured here:

- contact list for a case p99 ≤ 200 ms: `health.contacts.case_contacts(case)` for each of
  the traced school's cases (children of different classes: a third riding a bus, a third
  boarding, a third neither; each case loaded afresh, with its child and class, before each
  call). One pass over every case first (reported apart as `first_pass`), then --repeats
  passes: p50/p95/p99 of all calls. Its floor, measured in the same run, interleaved call by
  call: the time merely to read the same input rows for the case (the class's children,
  check days, attendance, absences and staff; the child's checks, seats, boardings and
  rooms, and the rows of the same check queue, tables, trips and rooms; the contacts' names
  — one query each). Also queries per call, contacts and reasons found (the case child must
  not be among them) and one profiled call.
- cluster evaluation for a county of 1,000 schools ≤ 2 s: `surveillance_services.
  clusters_evaluate(today=<evaluation day>)` end to end. The first run raises the alerts and
  is reported apart as `cold_ms`; then --runs runs on the same data (median, max), each of
  which must raise no new alert (alerts created per run are reported). Its floor, interleaved:
  the time to read the window's SymptomEvent rows (the longest rule window), the open alerts
  and their children, one query each. Its query count and where its time goes; and the
  planted clusters against the alerts raised.
- morning-check entry page p95 ≤ 150 ms: `health:check_entry` (`/health/classes/<class>/
  checks/morning/?date=`) for the class of 40 as its head teacher (session cookie): the
  evaluation day's check, not taken yet (the blank form), and the day before's (the
  recorded check, its edit form). Served by granian WSGI under light load (wrk,
  --connections 2, --duration s per URL and round) beside the floor page of
  bench/floor_app.py (the school home page as a bare view, for the same teacher) served the
  same way in the same run; p50/p90/p95/p99 (medians of the rounds), each p95 over the
  floor's, queries per request in-process, and every child of the class shown.

    .venv/bin/python bench/tracing.py [--runs 7] [--repeats 10] [--rounds 3] [--strict]
    .venv/bin/python bench/tracing.py --database postgres
    .venv/bin/python bench/tracing.py --smoke   # tiny county, seconds: it still works

Each run generates its county afresh: SQLite in a new temporary var directory (removed at
the end), PostgreSQL in its own database (--postgres-url, default huxiao_bench_tracing at
127.0.0.1:5432 as postgres), recreated at the start and dropped at the end (--keep keeps
either). Prints JSON, writes var/bench/tracing.json and var/bench/tracing-<database>.json
(--smoke: only --output); progress goes to stderr. Exits 2 on any error (a part whose code
is not there yet is reported in `errors`, after the JSON), and 1 on a missed target only with
--strict. Needs wrk (scripts/install-bench-tools.sh).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/tracing.py` puts bench/ first
    sys.path.insert(0, str(ROOT))

from bench import tracing_seed  # noqa: E402
from bench.common import (  # noqa: E402
    BenchError,
    add_arguments,
    check_arguments,
    field_of,
    machine,
    measure_pages,
    percentiles,
    profiled,
    queries_of,
    ratio,
    run,
    timed,
    warm_url_resolver,
)
from bench.tracing_seed import log  # noqa: E402

TARGET_CONTACTS_P99_MS = 200.0
TARGET_EVALUATION_MS = 2000.0
TARGET_PAGE_P95_MS = 150.0
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/huxiao_bench_tracing"
DEFAULT_RULE_WINDOW_DAYS = 7  # the longest default window (≥ 5 in a school within 7 days)


class NotThereYet(BenchError):
    """The code a part measures is not written yet: reported, the other parts go on."""


# ------------------------------------------------------------------ contact tracing


def _window(case, today: dt.date) -> tuple[dt.date, dt.date]:
    """Onset − the case's window to the isolation day (today while not isolated)."""
    from django.utils import timezone

    start = case.onset_date - dt.timedelta(days=case.contact_window_days)
    end = timezone.localdate(case.isolated_at) if case.isolated_at else today
    return start, max(start, min(end, today))


def _any_of(conditions):
    """Rows matching any of the conditions (none: no row, and no query is run)."""
    from django.db.models import Q

    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= Q(**condition)
    return combined


def read_contact_inputs(case, today: dt.date, queue_minutes: int) -> dict[str, tuple[int, float]]:
    """The floor: the rows any contact list of the case must read, one query per kind, into
    Python tuples — the class's own rows, then for each kind of contact the case child's
    rows and the rows they point to (the same check queue, table, trip, room), then the
    contacts' names. Returns kind → (rows, ms)."""
    from django.db.models import Q

    from huxiao.health import models as health
    from huxiao.people.models import Child, SchoolClass
    from huxiao.transport.models import Boarding

    start, end = _window(case, today)
    span = (start, end)
    school, class_id, child = case.school_id, case.school_class_id, case.child_id
    minutes = dt.timedelta(minutes=queue_minutes)
    overlapping = Q(starts_on__lte=end) & (Q(ends_on__isnull=True) | Q(ends_on__gte=start))
    in_class = {"school_class_id": class_id}
    in_window = {**in_class, "date__range": span}
    timings: dict[str, tuple[int, float]] = {}

    def read(name, queryset):
        ms, rows = timed(list, queryset)
        timings[name] = (len(rows), ms)
        return rows

    classmates = read(
        "class_children",
        Child.objects.filter(is_active=True, **in_class).values_list("pk", "name"),
    )
    for name, queryset in (
        ("class_check_days", health.HealthCheck.objects.filter(**in_window).values_list("date")),
        ("class_attendance", health.AttendanceDay.objects.filter(**in_window).values_list("date")),
        (
            "class_absences",
            health.Absence.objects.filter(**in_window).values_list("child_id", "date"),
        ),
        (
            "class_staff",
            health.ClassStaff.objects.filter(**in_class).values_list("staff_id", "staff__name"),
        ),
        ("head_teacher", SchoolClass.objects.filter(pk=class_id).values_list("head_teacher__name")),
    ):
        read(name, queryset)
    own_and_shared = (
        (
            "own_checks",
            health.ChildCheck.objects.filter(child_id=child, date__range=span).values_list(
                "date", "checkpoint", "checked_at"
            ),
            "check_queue",
            lambda rows: health.ChildCheck.objects.filter(
                _any_of(
                    {
                        "date": d,
                        "checkpoint": point,
                        "checked_at__range": (at - minutes, at + minutes),
                    }
                    for d, point, at in rows
                ),
                school_id=school,
            ).values_list("child_id", "date", "checked_at"),
        ),
        (
            "own_seats",
            health.DiningSeat.objects.filter(child_id=child, date__range=span).values_list(
                "date", "table"
            ),
            "table_mates",
            lambda rows: health.DiningSeat.objects.filter(
                _any_of({"date": d, "table": table} for d, table in rows), school_id=school
            ).values_list("child_id", "date", "table"),
        ),
        (
            "own_boardings",
            Boarding.objects.filter(child_id=child, trip__date__range=span).values_list("trip_id"),
            "trip_mates",
            lambda rows: Boarding.objects.filter(trip_id__in=[t for (t,) in rows]).values_list(
                "child_id", "trip_id"
            ),
        ),
        (
            "own_rooms",
            health.DormAssignment.objects.filter(overlapping, child_id=child).values_list(
                "room", "starts_on", "ends_on"
            ),
            "room_mates",
            lambda rows: health.DormAssignment.objects.filter(
                overlapping, school_id=school, room__in={room for room, *_ in rows}
            ).values_list("child_id", "room", "starts_on", "ends_on"),
        ),
    )
    others: set[int] = set()
    for own_name, own, shared_name, shared in own_and_shared:
        others |= {row[0] for row in read(shared_name, shared(read(own_name, own)))}
    read(
        "contact_children",
        Child.objects.filter(pk__in=others - {pk for pk, _ in classmates}).values_list(
            "pk", "name", "school_class__name"
        ),
    )
    return timings


def _reason_codes(contact) -> list[str]:
    codes = []
    for reason in field_of(contact, "reasons") or []:
        code = reason if isinstance(reason, str) else field_of(reason, "reason", "code", "kind")
        codes.append(str(getattr(code, "value", code)))
    return codes


def _is_case_child(contact, case) -> bool:
    kind = str(field_of(contact, "kind") or "child")
    person = field_of(contact, "child_id", "id", "pk")
    if person is None and field_of(contact, "child") is not None:
        person = field_of(field_of(contact, "child"), "pk", "id")
    return kind == "child" and person == case.child_id


def _contact_state(case, contacts: list) -> dict:
    if any(_is_case_child(c, case) for c in contacts):
        raise BenchError(f"case {case.pk}: the case child is among its own contacts")
    reasons = Counter(code for c in contacts for code in set(_reason_codes(c)))
    return {"contacts": len(contacts), "reasons": reasons}


def _load_case(case_id: int):
    """The case as a page's selector hands it over: fresh, with its child and class."""
    from huxiao.health.models import HealthCase

    return HealthCase.objects.select_related("child", "school_class").get(pk=case_id)


def measure_contacts(seeded: dict, args) -> dict:
    try:
        from huxiao.health.contacts import case_contacts
    except ImportError as exc:
        raise NotThereYet(f"huxiao.health.contacts.case_contacts: {exc}") from None

    from django.utils import timezone

    today = timezone.localdate()
    cases = seeded["cases"]

    def call(case_id: int) -> tuple[float, list]:
        case = _load_case(case_id)
        return timed(case_contacts, case, queue_minutes=args.queue_minutes)

    def floor(case_id: int) -> tuple[float, dict]:
        timings = read_contact_inputs(_load_case(case_id), today, args.queue_minutes)
        return sum(ms for _, ms in timings.values()), timings

    first, states = [], {}
    for case in cases:
        ms, contacts = call(case["case_id"])
        first.append(ms)
        states[case["case_id"]] = _contact_state(_load_case(case["case_id"]), contacts)
    if not any(s["contacts"] for s in states.values()):
        raise BenchError("case_contacts found no contact for any case")
    median = statistics.median(first)
    log(f"case_contacts: first pass over {len(cases)} cases, median {median:.1f} ms")

    samples, floors = [], []
    tables: dict[str, list[float]] = {}
    table_rows: dict[str, list[int]] = {}
    for repeat in range(args.repeats):
        order = cases if repeat % 2 == 0 else cases[::-1]
        for n, case in enumerate(order):
            steps = ("contacts", "floor") if (repeat + n) % 2 == 0 else ("floor", "contacts")
            for step in steps:
                if step == "contacts":
                    samples.append(call(case["case_id"])[0])
                    continue
                ms, timings = floor(case["case_id"])
                floors.append(ms)
                for name, (rows, table_ms) in timings.items():
                    tables.setdefault(name, []).append(table_ms)
                    table_rows.setdefault(name, []).append(rows)
        log(
            f"case_contacts pass {repeat + 1}/{args.repeats}: p99 so far "
            f"{percentiles(samples)['p99_ms']:.1f} ms; floor median {statistics.median(floors):.1f}"
        )

    counts = {c["case_id"]: queries_of(call, c["case_id"])["count"] - 1 for c in cases}  # − load
    heaviest = max(cases, key=lambda c: states[c["case_id"]]["contacts"])
    heaviest_case = _load_case(heaviest["case_id"])
    figures = percentiles(samples)
    floor_figures = percentiles(floors)
    by_kind: dict[str, list[int]] = {}
    for case in cases:
        by_kind.setdefault(case["kind"], []).append(states[case["case_id"]]["contacts"])
    reasons = Counter()
    for state in states.values():
        reasons.update({code: 1 for code in state["reasons"]})
    return {
        "cases": len(cases),
        "classes": len({c["class"] for c in cases}),
        "repeats": args.repeats,
        "queue_minutes": args.queue_minutes,
        "first_pass": percentiles(first),
        **figures,
        "queries_per_call": {
            "max": max(counts.values()),
            "median": statistics.median(counts.values()),
            "what": "queries of case_contacts alone (the case's own load not counted)",
        },
        "heaviest_case": {
            "case_id": heaviest["case_id"],
            "contacts": states[heaviest["case_id"]]["contacts"],
            "queries": queries_of(case_contacts, heaviest_case, queue_minutes=args.queue_minutes),
        },
        "contacts": {
            "median": statistics.median(s["contacts"] for s in states.values()),
            "max": max(s["contacts"] for s in states.values()),
            "median_by_case_kind": {k: statistics.median(v) for k, v in by_kind.items()},
            "cases_with_each_reason": dict(sorted(reasons.items())),
        },
        "floor": {
            "what": "read the case's input rows, one query per kind (values_list)",
            **floor_figures,
            "tables": {
                name: {
                    "median_rows": statistics.median(table_rows[name]),
                    "median_ms": round(statistics.median(ms), 2),
                }
                for name, ms in tables.items()
            },
        },
        "p99_ratio_to_floor_p99": ratio(figures["p99_ms"], floor_figures["p99_ms"]),
        "p50_ratio_to_floor_p50": ratio(figures["p50_ms"], floor_figures["p50_ms"]),
        "profile": profiled(case_contacts, heaviest_case, queue_minutes=args.queue_minutes),
        "target_p99_ms": TARGET_CONTACTS_P99_MS,
        "met": figures["p99_ms"] <= TARGET_CONTACTS_P99_MS,
    }


# ------------------------------------------------------------------ cluster evaluation


def _rule_window(region_id: int) -> int:
    """The longest active rule window of the county (its stored rules, or the shipped
    defaults while it has none)."""
    try:
        from huxiao.health.surveillance_rules import rules_for_region
    except ImportError:
        return DEFAULT_RULE_WINDOW_DAYS
    days = [r.window_days for r in rules_for_region(region_id) if r.is_active]
    return max(days, default=DEFAULT_RULE_WINDOW_DAYS)


def read_cluster_inputs(region_id: int, today: dt.date) -> dict[str, tuple[int, float]]:
    """The floor: the window's symptom events, the rules, the open alerts and their children,
    one query each."""
    from huxiao.health.models import ClusterAlert, ClusterRule, SymptomEvent

    first = today - dt.timedelta(days=_rule_window(region_id) - 1)
    timings: dict[str, tuple[int, float]] = {}

    def read(name, queryset):
        ms, rows = timed(list, queryset)
        timings[name] = (len(rows), ms)

    read(
        "rules",
        ClusterRule.objects.filter(region_id=region_id).values_list(
            "pk", "kind", "symptom_group", "min_children", "window_days", "is_active"
        ),
    )
    read(
        "symptom_events",
        SymptomEvent.objects.filter(date__range=(first, today)).values_list(
            "school_id", "school_class_id", "child_id", "date", "symptom"
        ),
    )
    read("open_alerts", ClusterAlert.objects.filter(status="open").values_list("pk", "key"))
    read(
        "open_alert_children",
        ClusterAlert.children.through.objects.filter(clusteralert__status="open").values_list(
            "clusteralert_id", "child_id"
        ),
    )
    return timings


def _alert_counts() -> tuple[int, int]:
    from huxiao.health.models import ClusterAlert

    return ClusterAlert.objects.count(), ClusterAlert.children.through.objects.count()


def _planted_vs_alerted(seeded: dict) -> dict:
    """Each planted school's alerts by kind (a cross-check, not a target)."""
    from huxiao.health.models import ClusterAlert
    from huxiao.orgs.models import Organization

    names = {
        pk: int(name[-4:])
        for pk, name in Organization.objects.filter(name__startswith="卫生学校").values_list(
            "pk", "name"
        )
    }
    alerted: dict[str, set[int]] = {}
    for school_id, kind in ClusterAlert.objects.values_list("school_id", "kind"):
        if school_id in names:
            alerted.setdefault(kind, set()).add(names[school_id])
    result = {}
    for planted, (every, at) in tracing_seed.PLANTED_EVERY.items():
        schools = [n for n in range(1, seeded["schools"]) if n % every == at]
        result[planted] = {
            "schools": len(schools),
            "with_class_alert": sum(n in alerted.get("class_cluster", ()) for n in schools),
            "with_school_alert": sum(n in alerted.get("school_cluster", ()) for n in schools),
        }
    result["alerts_by_kind"] = dict(
        Counter(ClusterAlert.objects.values_list("kind", flat=True)).most_common()
    )
    result["schools_alerted"] = ClusterAlert.objects.values("school_id").distinct().count()
    return result


def measure_clusters(seeded: dict, runs: int) -> dict:
    try:
        from huxiao.health.surveillance_services import clusters_evaluate
    except ImportError as exc:
        raise NotThereYet(f"surveillance_services.clusters_evaluate: {exc}") from None

    region_id = seeded["region_id"]
    today = dt.date.fromisoformat(seeded["evaluation_day"])

    def once() -> dict:
        alerts, children = _alert_counts()
        ms, result = timed(clusters_evaluate, today=today)
        after = _alert_counts()
        return {
            "ms": ms,
            "alerts_created": after[0] - alerts,
            "alert_children_added": after[1] - children,
            "returned": len(result or []),
        }

    cold = once()
    log(f"clusters_evaluate: cold run {cold['ms']:.0f} ms, {cold['alerts_created']} alerts raised")
    if cold["alerts_created"] == 0:
        raise NotThereYet(
            "clusters_evaluate raised no alert for the planted clusters (is it still the stub?)"
        )
    read_cluster_inputs(region_id, today)  # warm the floor like the cold run warmed the code

    evaluation, reads = [], []
    tables: dict[str, list[float]] = {}
    table_rows: dict[str, int] = {}
    for n in range(runs):
        for step in ("evaluate", "read") if n % 2 == 0 else ("read", "evaluate"):
            if step == "evaluate":
                evaluation.append(once())
                continue
            timings = read_cluster_inputs(region_id, today)
            reads.append(sum(ms for _, ms in timings.values()))
            for name, (rows, ms) in timings.items():
                tables.setdefault(name, []).append(ms)
                table_rows[name] = rows
        log(
            f"clusters_evaluate {n + 1}/{runs}: {evaluation[-1]['ms']:.0f} ms, "
            f"{evaluation[-1]['alerts_created']} new alerts; floor {reads[-1]:.0f} ms"
        )

    queries = queries_of(clusters_evaluate, today=today)
    run_ms = [r["ms"] for r in evaluation]
    median, read_median = statistics.median(run_ms), statistics.median(reads)
    repeated = [r["alerts_created"] for r in evaluation]
    return {
        "today": today.isoformat(),
        "schools": seeded["schools"],
        "cold_ms": round(cold["ms"], 1),
        "median_ms": round(median, 1),
        "max_ms": round(max(run_ms), 1),
        "min_ms": round(min(run_ms), 1),
        "runs_ms": [round(x, 1) for x in run_ms],
        "alerts_created_per_run": [cold["alerts_created"], *repeated],
        "alert_children_added_per_run": [
            cold["alert_children_added"],
            *(r["alert_children_added"] for r in evaluation),
        ],
        "alerts_returned_per_run": [cold["returned"], *(r["returned"] for r in evaluation)],
        "second_evaluation_created_none": not any(repeated),
        "queries": queries,
        "floor": {
            "what": "read the rule window's symptom events, the rules, the open alerts and "
            "their children (values_list, one query each)",
            "rule_window_days": _rule_window(region_id),
            "read_median_ms": round(read_median, 1),
            "read_max_ms": round(max(reads), 1),
            "tables": {
                name: {"rows": table_rows[name], "median_ms": round(statistics.median(ms), 1)}
                for name, ms in tables.items()
            },
        },
        "ratio_to_read_floor": ratio(median, read_median),
        "profile": profiled(clusters_evaluate, today=today),
        "planted_vs_alerted": _planted_vs_alerted(seeded),
        "target_ms": TARGET_EVALUATION_MS,
        "met": median <= TARGET_EVALUATION_MS and not any(repeated),
    }


# ------------------------------------------------------------------ the page


def _page_urls(seeded: dict) -> list[dict]:
    from django.urls import NoReverseMatch, reverse

    class_id = seeded["page_class_id"]
    evaluation = dt.date.fromisoformat(seeded["evaluation_day"])
    day_before = tracing_seed.school_days(evaluation, 2)[0]
    try:
        path = reverse("health:check_entry", kwargs={"class_id": class_id, "session": "morning"})
    except NoReverseMatch:
        try:
            path = reverse("health:check_entry", args=[class_id, "morning"])
        except NoReverseMatch:
            raise NotThereYet("the page health:check_entry is not there yet") from None
    return [
        {"name": "check_entry", "actor": "teacher", "path": f"{path}?date={evaluation}"},
        {"name": "check_entry_recorded", "actor": "teacher", "path": f"{path}?date={day_before}"},
    ]


def _children_checker(class_id: int):
    """A check of the page's body: every child of the class is listed (by name)."""
    from huxiao.people.models import Child

    names = list(
        Child.objects.filter(school_class_id=class_id, is_active=True).values_list(
            "name", flat=True
        )
    )

    def check(url: dict, body: bytes) -> dict:
        text = body.decode("utf-8", errors="replace")
        missing = [n for n in names if html.escape(n) not in text and n not in text]
        if missing:
            raise BenchError(f"{url['name']}: {len(missing)} of {len(names)} children not shown")
        return {"children_shown": len(names)}

    return check


def measure_page(args, env: dict, seeded: dict) -> dict:
    from django.utils import timezone

    evaluation = dt.date.fromisoformat(seeded["evaluation_day"])
    if evaluation > timezone.localdate():
        raise BenchError(f"the evaluation day {evaluation} is in the future: the page refuses it")
    urls = [{**u, "target": True} for u in _page_urls(seeded)]
    ids = tracing_seed.actors(seeded["school_id"])
    pages = measure_pages(
        args,
        env,
        urls=urls,
        users={"teacher": ids["teacher"]},
        floor_actor="teacher",
        floor_school_id=ids["school_id"],
        target_ms=TARGET_PAGE_P95_MS,
        check=_children_checker(seeded["page_class_id"]),
        log=log,
    )
    return {"class_size": seeded["traced_school"]["page_class_size"], **pages}


# ------------------------------------------------------------------ main


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, postgres_url=DEFAULT_POSTGRES)
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--towns", type=int, default=tracing_seed.TOWNS)
    parser.add_argument("--classes", type=int, default=tracing_seed.CLASSES)
    parser.add_argument("--children", type=int, default=tracing_seed.CHILDREN)
    parser.add_argument("--days", type=int, default=tracing_seed.SCHOOL_DAYS)
    parser.add_argument("--cases", type=int, default=tracing_seed.CASES)
    parser.add_argument("--repeats", type=int, default=10, help="measured passes over the cases")
    parser.add_argument("--queue-minutes", type=int, default=3)
    args = parser.parse_args(argv)
    if args.smoke:
        args.schools, args.towns, args.classes, args.children = 12, 2, 10, 300
        args.days, args.cases, args.repeats = 5, 6, 3
    check_arguments(parser, args)
    if args.schools < 2 or not 1 <= args.towns <= args.schools:
        parser.error("--schools must be >= 2 and 1 <= --towns <= --schools")
    if args.days < 3 or args.cases < 1 or args.repeats < 1 or args.classes < 2:
        parser.error("--days must be >= 3, --classes >= 2, --cases and --repeats >= 1")
    return args


def _part(errors: list[str], function, *args):
    """A part's figures, or None (and a line in `errors`) when its code is not there yet."""
    try:
        return function(*args)
    except NotThereYet as exc:
        log(f"not measured: {exc}")
        errors.append(str(exc))
        return None


def measure(args, env: dict) -> dict:
    from django.utils import timezone

    anchor = args.today or timezone.localdate()
    sizes = {k: getattr(args, k) for k in ("schools", "towns", "classes", "children", "days")}
    log(f"generating the county and the traced school: {sizes}")
    seeded = tracing_seed.build(anchor=anchor, cases=args.cases, **sizes)
    warm_url_resolver()
    errors: list[str] = []
    load_before = os.getloadavg()
    log("case_contacts against its floor")
    contacts = _part(errors, measure_contacts, seeded, args)
    log("clusters_evaluate against its floor")
    clusters = _part(errors, measure_clusters, seeded, args.runs)
    log("the morning-check entry page against the floor page")
    page = _part(errors, measure_page, args, env, seeded)
    load_after = os.getloadavg()
    return {
        "data": {k: v for k, v in seeded.items() if k not in {"region_id", "cases"}},
        "case_contacts": contacts,
        "clusters_evaluate": clusters,
        "check_entry_page": page,
        "machine": machine((load_before, load_after)),
        "targets": {
            "case_contacts_p99_ms": TARGET_CONTACTS_P99_MS,
            "clusters_evaluate_median_ms": TARGET_EVALUATION_MS,
            "check_entry_page_p95_ms": TARGET_PAGE_P95_MS,
        },
        "met": {
            "case_contacts": bool(contacts and contacts["met"]),
            "clusters_evaluate": bool(clusters and clusters["met"]),
            "check_entry_page": bool(page and page["met"]),
        },
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    return run(_parse(argv), "tracing", measure, log)


if __name__ == "__main__":
    sys.exit(main())
