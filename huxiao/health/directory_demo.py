"""The four-party directories of the demo township (issue 9 item 1; §3 1; ADR 0032
"Directory").

`load_demo_directory()` runs after `load_demo_township()`. Demo mode only. Every school of
大杨树镇 gets named contacts for the four parties:
- health centre (大杨树卫生院): 郑晓梅, head of public health (the `health` login), on the
  centre's number, first to call; and a doctor of its disease-prevention section;
- township government (大杨树镇人民政府): the deputy town head in charge (分管副镇长);
- central school (大杨树镇中心学校): 周文明, safety supervisor (the `edu` login), on the
  office's number;
- the school itself: its principal (first to call) and its health staff member, from the
  school's staff records with their phones.
At 大杨树实验幼儿园 the entries go through the real services, added by the principal `刘芳`
and (the health centre's) by `郑晓梅`, so their audit rows are the real ones; the other
schools have no demo login to act as, and their entries are bulk-created and audited as the
platform's own import.

Idempotent: a school that already has a contact is left alone, so a second run adds nothing
and changes made during a demo survive a restart. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from huxiao.audit.services import audit_bulk_create
from huxiao.core.names import person_name
from huxiao.core.roles import SCHOOL_KINDS, OrgKind
from huxiao.demo.township import OFFICES, SCHOOLS, DemoModeOff
from huxiao.health import directory_services as services
from huxiao.health.choices import Party
from huxiao.health.models import HealthContact
from huxiao.orgs.models import Membership, Organization
from huxiao.people.choices import StaffRole
from huxiao.people.models import Staff

TOWN = "dys"
KINDERGARTEN = next(s.name for s in SCHOOLS if s.key == "kg")
SCHOOL_NAMES = tuple(s.name for s in SCHOOLS if s.town == TOWN)
OFFICE_NAMES = {o.key: o.name for o in OFFICES}
# (name, title, phone) of the people who have no login in the demo.
DOCTOR = ("高建平", "防保科医生", "0311-85213121")
LIAISON = ("冯国栋", "分管副镇长", "0311-85213006")
# Used when the logins are missing (a partly loaded township).
HEALTH_OFFICER = ("郑晓梅", "公共卫生科科长")
SUPERVISOR = ("周文明", "安全督导专干")


def load_demo_directory(stdout=None, *, today: dt.date | None = None) -> dict:
    """Fill in the directories of the town's schools that have none; return what was done."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"schools": 0, "contacts": 0}
    schools = list(
        Organization.objects.filter(name__in=SCHOOL_NAMES, kind__in=SCHOOL_KINDS).order_by("pk")
    )
    offices = {
        key: Organization.objects.filter(name=OFFICE_NAMES[key], kind=kind).first()
        for key, kind in (
            ("health", OrgKind.HEALTH_CENTRE),
            ("government", OrgKind.GOVERNMENT),
            ("edu", OrgKind.EDUCATION_OFFICE),
        )
    }
    if not schools:
        return created
    done = set(HealthContact.objects.filter(school__in=schools).values_list("school_id", flat=True))
    people = _office_people()
    with transaction.atomic():
        bulk = []
        for school in schools:
            if school.pk in done:
                continue
            plan = _plan(school, offices, people)
            real = school.name == KINDERGARTEN and _through_services(school, plan, people)
            if not real:
                bulk += [HealthContact(school=school, **entry) for entry in plan]
            created["schools"] += 1
            created["contacts"] += len(plan)
        HealthContact.objects.bulk_create(bulk)
        audit_bulk_create(actor=None, objs=bulk)
    if stdout is not None:
        stdout.write(
            f"Four-party directories: {created['contacts']} contacts at "
            f"{created['schools']} schools."
        )
    return created


def _office_people() -> dict:
    """The `health`, `edu` and `principal` logins with their names and titles."""
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=("health", "edu", "principal"), is_active=True
        )
    }
    titles = dict(
        Membership.objects.filter(user__in=users.values(), is_active=True).values_list(
            "user__username", "title"
        )
    )
    health, edu = users.get("health"), users.get("edu")
    return {
        "users": users,
        "health": (
            person_name(health) if health else HEALTH_OFFICER[0],
            titles.get("health") or HEALTH_OFFICER[1],
        ),
        "edu": (
            person_name(edu) if edu else SUPERVISOR[0],
            titles.get("edu") or SUPERVISOR[1],
        ),
    }


def _phone(*candidates: str) -> str | None:
    for phone in candidates:
        try:
            return services.clean_directory_phone(phone)
        except ValidationError:
            continue
    return None


def _plan(school: Organization, offices: dict, people: dict) -> list[dict]:
    """The entries of one school, in the order they are added."""
    plan: list[dict] = []

    def add(party, org, name, title, phone, primary, order):
        phone = _phone(phone or "")
        if phone:
            plan.append(
                {
                    "party": party,
                    "organization": org,
                    "name": name,
                    "title": title,
                    "phone": phone,
                    "is_primary": primary,
                    "sort_order": order,
                }
            )

    centre = school.health_centre if school.health_centre_id else offices["health"]
    if centre is not None:
        add(Party.HEALTH_CENTRE, centre, *people["health"], centre.phone, True, 0)
        add(Party.HEALTH_CENTRE, centre, *DOCTOR, False, 10)
    government = offices["government"]
    if government is not None:
        add(Party.GOVERNMENT, government, *LIAISON, True, 0)
    edu = school.education_office if school.education_office_id else offices["edu"]
    if edu is not None:
        add(Party.CENTRAL_SCHOOL, edu, *people["edu"], edu.phone, True, 0)
    kindergarten = school.kind == OrgKind.KINDERGARTEN
    principal = _staff(school, StaffRole.PRINCIPAL)
    if principal is not None:
        title = "园长" if kindergarten else "校长"
        add(Party.SCHOOL, school, principal.name, title, principal.phone, True, 0)
    nurse = _staff(school, StaffRole.HEALTH_STAFF)
    if nurse is not None:
        title = "保健医" if kindergarten else "校医"
        add(Party.SCHOOL, school, nurse.name, title, nurse.phone, False, 10)
    return plan


def _staff(school: Organization, role: str) -> Staff | None:
    """The school's staff member in `role`; one with a login first."""
    return (
        Staff.objects.filter(school=school, role=role, is_active=True)
        .order_by(F("user_id").asc(nulls_last=True), "pk")
        .first()
    )


def _through_services(school: Organization, plan: list[dict], people: dict) -> bool:
    """The kindergarten's entries through the services: the principal adds them, the
    health officer her centre's. False (nothing done) when either login is missing."""
    principal, health = people["users"].get("principal"), people["users"].get("health")
    if principal is None or health is None:
        return False
    for entry in plan:
        actor = health if entry["party"] == Party.HEALTH_CENTRE else principal
        org = entry["organization"]
        services.health_contact_create(
            actor=actor,
            school=school,
            party=entry["party"],
            name=entry["name"],
            title=entry["title"],
            phone=entry["phone"],
            is_primary=entry["is_primary"],
            sort_order=entry["sort_order"],
            organization_id=org.pk if org else None,
        )
    return True
