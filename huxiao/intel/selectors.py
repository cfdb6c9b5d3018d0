"""Reads of the high-risk persons register: always scoped, every read logged (ADR 0017).

- A request from someone without the register (no `view_register` membership at a police
  station or post) is answered 404 on every route and leaves a `denied` audit row (a
  probe). So does a request for a record out of the reader's scope, or for one that does
  not exist: the two must look the same.
- Decrypting a record for display goes through `person_rows` / `person_detail`, which
  write one `read_sensitive` row per record shown, in one insert.
- Search terms are never written down (they are names and ID numbers); the rows a search
  shows are, like any other read.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.audit.services import audit_record, build_event
from huxiao.core import crypto
from huxiao.core.idcard import normalize_id_number, validate_id_number
from huxiao.core.names import person_name
from huxiao.intel import phonetic, rules
from huxiao.intel.choices import PersonStatus
from huxiao.intel.models import (
    ControlMeasure,
    HighRiskPerson,
    PersonPhoto,
    ScreeningHit,
    register_id_hash,
)

logger = logging.getLogger(__name__)

PERSON_TYPE = HighRiskPerson._meta.label_lower
SEARCH_LIMIT = 200
_ID_LIKE = re.compile(r"^\d{15,17}[\dX]?$")


# ---------------------------------------------------------------- the access log


def log_probe(*, actor, route: str, object_id="") -> None:
    """A request the register answered 404. Written at once (autocommit), so the 404 that
    follows cannot roll it back. If the id is a real record, its station is noted, so that
    the station's commander sees the probe on the record's access log."""
    changes: dict = {"route": route}
    if object_id:
        owner = (
            HighRiskPerson.objects.filter(pk=object_id).values_list("station_id", flat=True).first()
        )
        if owner:
            changes["station_id"] = owner
    audit_record(
        actor=actor,
        action=AuditAction.DENIED,
        object_type=PERSON_TYPE,
        object_id=str(object_id or ""),
        changes=changes,
    )


def log_reads(*, actor, person_ids, purpose: str) -> None:
    """One `read_sensitive` row per record shown, in one insert."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            build_event(
                actor=actor,
                action=AuditAction.READ_SENSITIVE,
                object_type=PERSON_TYPE,
                object_id=str(pk),
                object_repr=f"HR-{pk:06d}",
                changes={"purpose": purpose},
                at=now,
            )
            for pk in ids
        ]
    )


def require_register(actor, *, route: str) -> frozenset[int]:
    """The stations whose register `actor` uses; 404 and a logged probe if none."""
    ids = rules.register_station_ids(actor, rules.VIEW)
    if not ids:
        log_probe(actor=actor, route=route)
        raise Http404
    return ids


# ---------------------------------------------------------------- records


def _scoped(actor) -> QuerySet[HighRiskPerson]:
    return HighRiskPerson.objects.visible_to(actor, rules.VIEW)


def person_get(*, actor, person_id: int, route: str, log_read: bool = True) -> HighRiskPerson:
    """One record in the actor's scope, its read logged; 404 (probe logged) otherwise."""
    person = (
        _scoped(actor)
        .select_related("station", "responsible_officer", "created_by", "closed_by")
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        log_probe(actor=actor, route=route, object_id=person_id)
        raise Http404
    if log_read:
        log_reads(actor=actor, person_ids=[person.pk], purpose=route)
    return person


def measure_get(*, person: HighRiskPerson, measure_id: int) -> ControlMeasure:
    measure = ControlMeasure.objects.filter(person=person, pk=measure_id).first()
    if measure is None:
        raise Http404
    return measure


def person_list(
    *,
    actor,
    status: str = PersonStatus.ACTIVE,
    category: str = "",
    risk_level: str = "",
    review: str = "",
    station_id: int | None = None,
    today: dt.date | None = None,
) -> QuerySet[HighRiskPerson]:
    """The records in scope, filtered; nothing decrypted (see `person_rows`).

    `review`: "due" — active records whose review date has come; "week" — due within a
    week. `status`: "active", "closed" or "" for both.
    """
    today = today or timezone.localdate()
    qs = _scoped(actor).select_related("station", "responsible_officer")
    if status in PersonStatus.values:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if risk_level:
        qs = qs.filter(risk_level=risk_level)
    if station_id:
        qs = qs.filter(station_id=station_id)
    if review == "due":
        qs = qs.filter(status=PersonStatus.ACTIVE, next_review_on__lte=today)
    elif review == "week":
        qs = qs.filter(status=PersonStatus.ACTIVE, next_review_on__lte=today + dt.timedelta(days=7))
    if review:
        return qs.order_by("next_review_on", "id")
    return qs.order_by("-id")


def person_search(*, actor, qs: QuerySet[HighRiskPerson], query: str) -> list[HighRiskPerson]:
    """Records of `qs` (already scoped and filtered) found by name or resident ID number.

    An 18-character number is looked up exactly (keyed hash; partial numbers cannot be
    searched by design). Anything else is a name: the names in scope are decrypted and
    kept if they contain the query or sound like it (homophones, fuzzy sounds, one-letter
    slips: `phonetic.compare`). A station's register is hundreds of records, so decrypting
    it is a few milliseconds. The search itself is logged without its terms.
    """
    text = str(query or "").strip()[:50]
    if not text:
        return []
    number = normalize_id_number(text)
    if _ID_LIKE.match(number):
        kind = "id_number"
        try:
            number = validate_id_number(number)
        except Exception:  # noqa: BLE001 - an invalid number finds nothing
            found_ids: list[int] = []
        else:
            found_ids = list(
                qs.filter(id_number_hash=register_id_hash(number)).values_list("pk", flat=True)
            )
    else:
        kind = "name"
        key = phonetic.name_key(text)
        found_ids = []
        for pk, name_token, phonetic_token in qs.values_list(
            "pk", "name_encrypted", "phonetic_encrypted"
        ).iterator(chunk_size=500):
            try:
                name = crypto.decrypt(name_token)
                candidate = phonetic.decode(crypto.decrypt(phonetic_token))
            except crypto.DecryptionError:
                logger.warning("register record %s cannot be decrypted", pk)
                continue
            if text in name or (key and phonetic.compare(key, candidate) in ("sound", "typo")):
                found_ids.append(pk)
                if len(found_ids) >= SEARCH_LIMIT:
                    break
    audit_record(
        actor=actor,
        action=AuditAction.READ_SENSITIVE,
        object_type=PERSON_TYPE,
        changes={"purpose": "search", "by": kind, "results": len(found_ids)},
    )
    order = {pk: i for i, pk in enumerate(found_ids)}
    persons = list(qs.filter(pk__in=found_ids))
    return sorted(persons, key=lambda p: order[p.pk])


# ---------------------------------------------------------------- what pages and the API show


def _safe(decrypt) -> str:
    try:
        return decrypt()
    except crypto.DecryptionError:
        logger.warning("register field cannot be decrypted")
        return "⚠"


@dataclass
class PersonRow:
    """A record as lists show it: the name decrypted, the ID number masked."""

    person: HighRiskPerson
    name: str
    review_due: bool
    related_school_names: list[str] = field(default_factory=list)

    def __getattr__(self, item):
        return getattr(self.person, item)


def person_rows(*, actor, persons, purpose: str, today: dt.date | None = None) -> list[PersonRow]:
    """Decrypt the names of the records shown and log each read."""
    today = today or timezone.localdate()
    persons = list(persons)
    if not persons:
        return []
    school_names: dict[int, list[str]] = {}
    through = HighRiskPerson.related_schools.through
    for person_id, name in (
        through.objects.filter(highriskperson_id__in=[p.pk for p in persons])
        .order_by("organization__name")
        .values_list("highriskperson_id", "organization__name")
    ):
        school_names.setdefault(person_id, []).append(name)
    rows = [
        PersonRow(
            person=p,
            name=_safe(p.decrypt_name),
            review_due=bool(p.is_active and p.next_review_on and p.next_review_on <= today),
            related_school_names=school_names.get(p.pk, []),
        )
        for p in persons
    ]
    log_reads(actor=actor, person_ids=[p.pk for p in persons], purpose=purpose)
    return rows


@dataclass
class TimelineEntry:
    on: dt.date
    at: dt.datetime | None
    kind: str  # registered, measure_start, measure_end, follow_up, screening, closed
    title: str
    text: str = ""
    by: str = ""
    tone: str = ""


@dataclass
class PersonDetail:
    person: HighRiskPerson
    name: str
    id_number: str
    birth_date: dt.date | None
    address: str
    notes: str
    closed_note: str
    has_photo: bool
    related_schools: list
    measures: list
    follow_ups: list
    hits: list
    timeline: list[TimelineEntry]
    review_due: bool


def _who(user) -> str:
    return person_name(user) if user is not None else ""


def person_detail(*, person: HighRiskPerson, today: dt.date | None = None) -> PersonDetail:
    """Everything about one record, decrypted. The caller got `person` from `person_get`,
    which logged the read."""
    today = today or timezone.localdate()
    measures = list(person.measures.select_related("responsible", "created_by"))
    follow_ups = list(person.follow_ups.select_related("by"))
    hits = list(person.screening_hits.select_related("school", "screened_by")[:100])
    for measure in measures:
        measure.notes = _safe(measure.decrypt_notes)
        measure.current = measure.is_current(today)
    for follow_up in follow_ups:
        follow_up.finding = _safe(follow_up.decrypt_finding)
    timeline: list[TimelineEntry] = []
    local_created = timezone.localtime(person.created_at)
    timeline.append(
        TimelineEntry(
            on=local_created.date(),
            at=person.created_at,
            kind="registered",
            title=str(HighRiskPerson._meta.verbose_name),
            by=_who(person.created_by),
        )
    )
    for measure in measures:
        timeline.append(
            TimelineEntry(
                on=measure.started_on,
                at=None,
                kind="measure_start",
                title=measure.get_kind_display(),
                text=measure.notes,
                by=_who(measure.responsible or measure.created_by),
            )
        )
        if measure.ended_on:
            timeline.append(
                TimelineEntry(
                    on=measure.ended_on,
                    at=None,
                    kind="measure_end",
                    title=measure.get_kind_display(),
                )
            )
    for follow_up in follow_ups:
        timeline.append(
            TimelineEntry(
                on=follow_up.on,
                at=None,
                kind="follow_up",
                title=follow_up.get_method_display(),
                text=follow_up.finding,
                by=_who(follow_up.by),
                tone=follow_up.assessment,
            )
        )
    for hit in hits:
        timeline.append(
            TimelineEntry(
                on=timezone.localtime(hit.at).date(),
                at=hit.at,
                kind="screening",
                title=hit.school.name,
                text=hit.get_match_display(),
                by=hit.screened_by_label,
                tone="hold",
            )
        )
    if person.closed_at:
        timeline.append(
            TimelineEntry(
                on=timezone.localtime(person.closed_at).date(),
                at=person.closed_at,
                kind="closed",
                title=person.get_closed_reason_display(),
                by=_who(person.closed_by),
            )
        )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    timeline.sort(key=lambda e: (e.on, e.at or epoch), reverse=True)
    return PersonDetail(
        person=person,
        name=_safe(person.decrypt_name),
        id_number=_safe(person.decrypt_id_number),
        birth_date=person.decrypt_birth_date() if person.birth_date_encrypted else None,
        address=_safe(person.decrypt_address),
        notes=_safe(person.decrypt_notes),
        closed_note=_safe(person.decrypt_closed_note),
        has_photo=PersonPhoto.objects.filter(person=person).exists(),
        related_schools=list(person.related_schools.order_by("name")),
        measures=measures,
        follow_ups=follow_ups,
        hits=hits,
        timeline=timeline,
        review_due=bool(
            person.is_active and person.next_review_on and person.next_review_on <= today
        ),
    )


def person_photo(*, person: HighRiskPerson) -> tuple[bytes, str] | None:
    import base64

    photo = PersonPhoto.objects.filter(person=person).first()
    if photo is None:
        return None
    return base64.b64decode(crypto.decrypt(photo.data_encrypted)), photo.content_type


def person_access_log(*, actor, person: HighRiskPerson) -> list[AuditEvent]:
    """Who read, changed or probed the record: for the station's commanders only."""
    if not rules.is_commander(actor, person.station_id):
        return []
    events = list(
        AuditEvent.objects.filter(object_type=PERSON_TYPE, object_id=str(person.pk))
        .select_related("actor")
        .order_by("-at", "-id")[:200]
    )
    for event in events:
        changes = event.changes if isinstance(event.changes, dict) else {}
        event.where = str(changes.get("purpose") or changes.get("route") or "")
    return events


def register_stations(*, actor, action: str = rules.VIEW):
    from huxiao.orgs.models import Organization

    return Organization.objects.filter(pk__in=rules.register_station_ids(actor, action)).order_by(
        "name"
    )


def officer_choices(*, station_id: int):
    return rules.register_members(station_id)


def station_schools(*, station_id: int):
    from huxiao.core.roles import SCHOOL_KINDS
    from huxiao.orgs.models import Organization

    return Organization.objects.filter(
        police_station_id=station_id, kind__in=SCHOOL_KINDS
    ).order_by("name")


def hits_for_station(*, actor, since: dt.datetime) -> QuerySet[ScreeningHit]:
    return (
        ScreeningHit.objects.visible_to(actor, rules.VIEW)
        .filter(at__gte=since)
        .select_related("school", "person")
    )
