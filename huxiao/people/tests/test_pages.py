"""People pages: role × scope matrix for every page and write view, htmx partials, the ID
number reveal, service errors shown on forms, and a query-count bound on the class page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.core.idcard import make_id_number
from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.people.models import Certificate, Child, Guardian, SchoolClass, Staff
from huxiao.people.tests.factories import ChildFactory, SchoolClassFactory, StaffFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
HTMX = {"HX-Request": "true"}
NEW_CHILD_ID = make_id_number("110101", dt.date(2021, 5, 6), 7)


@pytest.fixture
def extra(world):
    """Records the matrix needs beyond the world: an empty class and a certificate."""
    return SimpleNamespace(
        empty_class=SchoolClassFactory(school=world.school, name="大一班", grade="大班"),
        certificate=Certificate.objects.create(
            staff=world.staff, kind="教师资格证", number="T-1", expires_on=dt.date(2030, 1, 1)
        ),
    )


def login(client, world, who):
    if who != "anonymous":
        client.force_login(world.users[who])
    return client


def db_state() -> dict:
    """Everything a people write could touch, including the audit trail."""
    models = (SchoolClass, Child, Guardian, Staff, Certificate, AuditEvent)
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in models}


# ------------------------------------------------------------------ read pages

PAGES = {
    "class_list": lambda w: f"{reverse('people:class_list')}?school={w.school.pk}",
    "class_detail": lambda w: reverse("people:class_detail", args=[w.school_class.pk]),
    "child_detail": lambda w: reverse("people:child_detail", args=[w.child.pk]),
    "staff_list": lambda w: f"{reverse('people:staff_list')}?school={w.school.pk}",
    "staff_detail": lambda w: reverse("people:staff_detail", args=[w.staff.pk]),
}
# Who sees the first school's people, and who is told it does not exist.
VIEWERS = {
    "principal": 200,
    "guard": 200,
    "teacher": 200,
    "police": 200,
    "officer": 200,
    "postofficer": 200,
    "edu": 200,
    "gov": 200,
    "county": 200,
    "nobody": 404,
    "principal2": 404,
    "farpolice": 404,
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", VIEWERS)
def test_page_scope(client, world, page, who):
    response = login(client, world, who).get(PAGES[page](world))
    assert response.status_code == VIEWERS[who]


@pytest.mark.parametrize("page", PAGES)
def test_page_anonymous_redirects_to_login(client, world, page):
    response = client.get(PAGES[page](world))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


@pytest.mark.parametrize("page", ["class_list", "staff_list"])
def test_list_without_school_defaults_to_own_school(client, world, page):
    response = login(client, world, "principal").get(reverse(f"people:{page}"))
    assert response.status_code == 200
    assert response.context["school"] == world.school
    names = {"class_list": world.school_class.name, "staff_list": world.staff.name}
    assert names[page] in response.content.decode()
    other = {"class_list": world.other_class.name, "staff_list": world.other_staff.name}
    assert other[page] not in response.content.decode()


@pytest.mark.parametrize("page", ["class_list", "staff_list"])
def test_list_for_police_defaults_to_a_visible_school(client, world, page):
    response = login(client, world, "police").get(reverse(f"people:{page}"))
    assert response.status_code == 200
    assert response.context["school"].pk in {world.school.pk, world.other_school.pk}
    assert len(response.context["schools"]) == 2


@pytest.mark.parametrize("page", ["class_list", "staff_list"])
def test_list_for_user_without_membership_is_empty(client, world, page):
    response = login(client, world, "nobody").get(reverse(f"people:{page}"))
    assert response.status_code == 200
    assert response.context["school"] is None


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("school=abc", 200),
        ("school=", 200),
        ("school=-1", 404),
        ("school=99999999999999999999999999", 404),
        ("role=bogus", 200),
        ("role=guard&school=1e3", 200),
    ],
)
@pytest.mark.parametrize("page", ["class_list", "staff_list"])
def test_list_bad_query_strings_never_500(client, world, page, query, status):
    response = login(client, world, "principal").get(f"{reverse(f'people:{page}')}?{query}")
    assert response.status_code == status


def test_list_school_that_is_not_a_school_is_404(client, world):
    url = f"{reverse('people:class_list')}?school={world.station.pk}"
    assert login(client, world, "police").get(url).status_code == 404


def test_staff_list_role_filter(client, world):
    StaffFactory(school=world.school, name="门卫老张", role="guard")
    url = f"{reverse('people:staff_list')}?school={world.school.pk}&role=guard"
    content = login(client, world, "principal").get(url).content.decode()
    assert "门卫老张" in content
    assert world.staff.name not in content


def test_huge_path_ids_are_404(client, world):
    login(client, world, "principal")
    for name in ("class_detail", "child_detail", "staff_detail"):
        assert client.get(reverse(f"people:{name}", args=[10**25])).status_code == 404


def test_class_detail_long_search_is_fine(client, world):
    url = reverse("people:class_detail", args=[world.school_class.pk])
    response = login(client, world, "principal").get(url, {"q": "王" * 500})
    assert response.status_code == 200


def test_class_detail_search_with_a_nul_is_fine(client, world):
    """PostgreSQL refuses a NUL in a query: the search was a 500 there (found by
    tests/fuzz/test_page_fuzz.py). The NUL is dropped, the rest searched."""
    url = reverse("people:class_detail", args=[world.school_class.pk])
    response = login(client, world, "principal").get(url, {"q": "小\x00明"})
    assert response.status_code == 200
    assert "王小明" in response.content.decode()


# ------------------------------------------------------------------ what each role is offered


def test_edit_controls_only_for_editors(client, world):
    class_edit = reverse("people:class_edit", args=[world.school_class.pk])
    child_edit = reverse("people:child_edit", args=[world.child.pk])
    staff_edit = reverse("people:staff_edit", args=[world.staff.pk])
    class_list = f"{reverse('people:class_list')}?school={world.school.pk}"
    cases = {
        "principal": (True, True),
        "teacher": (True, False),  # roster yes, staff no
        "guard": (False, False),
        "police": (False, False),
        "county": (False, False),
    }
    for who, (roster, staff) in cases.items():
        client.logout()
        login(client, world, who)
        listed = client.get(class_list).content.decode()
        assert (class_edit in listed) is roster, who
        assert (reverse("people:class_create", args=[world.school.pk]) in listed) is roster, who
        detail = client.get(reverse("people:child_detail", args=[world.child.pk]))
        assert (child_edit in detail.content.decode()) is roster, who
        assert (
            reverse("people:guardian_create", args=[world.child.pk]) in detail.content.decode()
        ) is roster, who
        staff_page = client.get(reverse("people:staff_detail", args=[world.staff.pk]))
        assert (staff_edit in staff_page.content.decode()) is staff, who


def test_audit_link_only_with_view_audit(client, world):
    link = f"{reverse('audit:event_list')}?object_type=people.child&amp;object_id={world.child.pk}"
    url = reverse("people:child_detail", args=[world.child.pk])
    for who, shown in (("guard", False), ("police", False), ("principal", True), ("county", True)):
        client.logout()
        content = login(client, world, who).get(url).content.decode()
        assert (link in content) is shown, who


def test_reveal_button_only_with_view_id_number(client, world):
    url = reverse("people:child_detail", args=[world.child.pk])
    reveal = reverse("people:child_reveal_id", args=[world.child.pk])
    assert reveal in login(client, world, "principal").get(url).content.decode()
    client.logout()
    content = login(client, world, "teacher").get(url).content.decode()
    assert reveal not in content
    assert world.child.id_number_masked in content


def test_child_detail_shows_masked_id_and_guardians(client, world):
    content = (
        login(client, world, "police")
        .get(reverse("people:child_detail", args=[world.child.pk]))
        .content.decode()
    )
    assert 'class="hx-masked"' in content
    assert world.child.id_number_masked in content
    assert world.child.decrypt_id_number() not in content
    assert world.guardian.name in content
    assert f'href="tel:{world.guardian.phone}"' in content


def test_staff_list_shows_phone_link_and_background_check(client, world):
    Staff.objects.filter(pk=world.staff.pk).update(
        background_check="passed", background_checked_on=dt.date(2024, 3, 1)
    )
    url = f"{reverse('people:staff_list')}?school={world.school.pk}"
    content = login(client, world, "principal").get(url).content.decode()
    assert f'href="tel:{world.staff.phone}"' in content
    assert "2024-03-01" in content


def test_certificate_expiry_highlighting(client, world):
    today = timezone.localdate()
    for kind, expires in (
        ("expired", today - dt.timedelta(days=1)),
        ("soon", today + dt.timedelta(days=30)),
        ("later", today + dt.timedelta(days=200)),
    ):
        Certificate.objects.create(staff=world.staff, kind=kind, expires_on=expires)
    response = login(client, world, "principal").get(
        reverse("people:staff_detail", args=[world.staff.pk])
    )
    rows = {c.kind: c.expiry for c in response.context["certificates"]}
    assert rows == {"expired": "expired", "soon": "soon", "later": ""}
    content = response.content.decode()
    assert 'class="hx-rowerror" data-expiry="expired"' in content
    assert 'data-expiry="soon"' in content
    assert 'class="hx-warning"' in content


# ------------------------------------------------------------------ write views


@dataclass
class Write:
    url: Callable
    data: Callable
    object_type: str
    audit_action: str
    right: str  # "roster" or "staff"


WRITES = {
    "class_create": Write(
        lambda w, x: reverse("people:class_create", args=[w.school.pk]),
        lambda w, x: {"name": "大二班", "grade": "大班", "head_teacher": w.staff.pk},
        "people.schoolclass",
        "create",
        "roster",
    ),
    "class_edit": Write(
        lambda w, x: reverse("people:class_edit", args=[w.school_class.pk]),
        lambda w, x: {"name": "小一班（改）", "grade": "小班", "head_teacher": ""},
        "people.schoolclass",
        "update",
        "roster",
    ),
    "class_delete": Write(
        lambda w, x: reverse("people:class_delete", args=[x.empty_class.pk]),
        lambda w, x: {},
        "people.schoolclass",
        "delete",
        "roster",
    ),
    "child_create": Write(
        lambda w, x: reverse("people:child_create", args=[w.school_class.pk]),
        lambda w, x: {"name": "李小花", "gender": "female", "id_number": NEW_CHILD_ID},
        "people.child",
        "create",
        "roster",
    ),
    "child_edit": Write(
        lambda w, x: reverse("people:child_edit", args=[w.child.pk]),
        lambda w, x: {"name": "王小明明", "gender": "male", "id_number": "", "is_active": "on"},
        "people.child",
        "update",
        "roster",
    ),
    "child_move": Write(
        lambda w, x: reverse("people:child_move", args=[w.child.pk]),
        lambda w, x: {"school_class": x.empty_class.pk},
        "people.child",
        "update",
        "roster",
    ),
    "child_delete": Write(
        lambda w, x: reverse("people:child_delete", args=[w.child.pk]),
        lambda w, x: {},
        "people.child",
        "delete",
        "roster",
    ),
    "guardian_create": Write(
        lambda w, x: reverse("people:guardian_create", args=[w.child.pk]),
        lambda w, x: {
            "name": "王爸爸",
            "relationship": "father",
            "phone": "13912345678",
            "can_pick_up": "on",
        },
        "people.guardian",
        "create",
        "roster",
    ),
    "guardian_edit": Write(
        lambda w, x: reverse("people:guardian_edit", args=[w.guardian.pk]),
        lambda w, x: {
            "name": "王妈妈",
            "relationship": "mother",
            "phone": "13700000000",
            "can_pick_up": "on",
            "is_primary": "on",
        },
        "people.guardian",
        "update",
        "roster",
    ),
    "guardian_delete": Write(
        lambda w, x: reverse("people:guardian_delete", args=[w.guardian.pk]),
        lambda w, x: {},
        "people.guardian",
        "delete",
        "roster",
    ),
    "staff_create": Write(
        lambda w, x: reverse("people:staff_create", args=[w.school.pk]),
        lambda w, x: {
            "name": "保安老张",
            "role": "guard",
            "phone": "13811112222",
            "background_check": "passed",
            "background_checked_on": "2024-01-02",
        },
        "people.staff",
        "create",
        "staff",
    ),
    "staff_edit": Write(
        lambda w, x: reverse("people:staff_edit", args=[w.staff.pk]),
        lambda w, x: {
            "name": "李老师",
            "role": "teacher",
            "phone": "13900139001",
            "background_check": "pending",
            "is_active": "on",
        },
        "people.staff",
        "update",
        "staff",
    ),
    "staff_delete": Write(
        lambda w, x: reverse("people:staff_delete", args=[w.staff.pk]),
        lambda w, x: {},
        "people.staff",
        "delete",
        "staff",
    ),
    "certificate_add": Write(
        lambda w, x: reverse("people:certificate_add", args=[w.staff.pk]),
        lambda w, x: {
            "kind": "健康证",
            "number": "H-2",
            "issued_on": "2024-01-01",
            "expires_on": "2025-01-01",
        },
        "people.certificate",
        "create",
        "staff",
    ),
    "certificate_remove": Write(
        lambda w, x: reverse("people:certificate_remove", args=[w.staff.pk, x.certificate.pk]),
        lambda w, x: {},
        "people.certificate",
        "delete",
        "staff",
    ),
}
# Users who see the school but whose role may not change it.
WRONG_ROLE = {"roster": ["guard", "police", "officer", "county"]}
WRONG_ROLE["staff"] = [*WRONG_ROLE["roster"], "teacher"]
OUT_OF_SCOPE = ["nobody", "principal2", "farpolice"]


def _matrix():
    for name, spec in WRITES.items():
        yield name, "anonymous", 302
        for who in OUT_OF_SCOPE:
            yield name, who, 404
        for who in WRONG_ROLE[spec.right]:
            yield name, who, 403


@pytest.mark.parametrize(("write", "who", "status"), list(_matrix()))
def test_write_denied_and_nothing_changes(client, world, extra, write, who, status):
    spec = WRITES[write]
    login(client, world, who)
    before = db_state()
    response = client.post(spec.url(world, extra), spec.data(world, extra))
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(LOGIN_URL)
    assert db_state() == before


# Users whose role may make the change: the principal, the teacher (rosters) and the
# security officer (staff).
EDITORS = {"roster": ["principal", "teacher"], "staff": ["principal", "security_officer"]}


@pytest.mark.parametrize(
    ("write", "who"),
    [(name, who) for name, spec in WRITES.items() for who in EDITORS[spec.right]],
)
def test_write_succeeds_for_an_editor(client, world, extra, write, who):
    spec = WRITES[write]
    if who == "security_officer":
        user = UserFactory(username="security_officer")
        MembershipFactory(user=user, organization=world.school, role=Role.SECURITY_OFFICER)
        world.users[who] = user
    login(client, world, who)
    before = db_state()
    response = client.post(spec.url(world, extra), spec.data(world, extra))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not response["Location"].startswith(LOGIN_URL)
    assert db_state() != before
    assert AuditEvent.objects.filter(
        actor=world.users[who], object_type=spec.object_type, action=spec.audit_action
    ).exists()


@pytest.mark.parametrize(
    "write",
    [
        "class_create",
        "child_create",
        "guardian_create",
        "guardian_edit",
        "guardian_delete",
        "staff_create",
        "certificate_add",
        "certificate_remove",
    ],
)
def test_htmx_write_returns_the_panel(client, world, extra, write):
    spec = WRITES[write]
    login(client, world, "principal")
    response = client.post(spec.url(world, extra), spec.data(world, extra), headers=HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert content.startswith("<section id=")
    assert AuditEvent.objects.filter(
        object_type=spec.object_type, action=spec.audit_action
    ).exists()


# Edit and delete views show their form / confirmation page on GET; the rest refuse GET.
GET_SHOWS_FORM = {
    "class_edit",
    "class_delete",
    "child_edit",
    "child_delete",
    "guardian_edit",
    "staff_edit",
    "staff_delete",
}


@pytest.mark.parametrize("write", WRITES)
def test_writes_only_on_post(client, world, extra, write):
    spec = WRITES[write]
    login(client, world, "principal")
    before = db_state()
    response = client.get(spec.url(world, extra))
    assert response.status_code == (200 if write in GET_SHOWS_FORM else 405)
    assert db_state() == before


@pytest.mark.parametrize(
    "name",
    [
        "class_edit",
        "class_delete",
        "child_edit",
        "child_delete",
        "staff_edit",
        "staff_delete",
        "guardian_edit",
    ],
)
@pytest.mark.parametrize(
    ("who", "status"),
    [("principal", 200), ("guard", 403), ("police", 403), ("principal2", 404), ("nobody", 404)],
)
def test_edit_forms_scope(client, world, name, who, status):
    target = {
        "class": world.school_class.pk,
        "child": world.child.pk,
        "staff": world.staff.pk,
        "guardian": world.guardian.pk,
    }[name.split("_")[0]]
    response = login(client, world, who).get(reverse(f"people:{name}", args=[target]))
    assert response.status_code == status


def test_edit_form_prefilled(client, world):
    response = login(client, world, "principal").get(
        reverse("people:class_edit", args=[world.school_class.pk])
    )
    assert response.context["form"]["name"].value() == world.school_class.name


# ------------------------------------------------------------------ validation shown in place


def test_class_create_errors_plain_post_is_400_full_page(client, world):
    client.cookies["django_language"] = "en"  # the messages asserted are English
    login(client, world, "principal")
    before = db_state()
    response = client.post(reverse("people:class_create", args=[world.school.pk]), {"name": ""})
    assert response.status_code == 400
    assert "<html" in response.content.decode()
    assert response.context["form"].errors["name"]
    assert db_state() == before


def test_class_create_errors_htmx_is_200_panel_with_errors(client, world):
    client.cookies["django_language"] = "en"  # the messages asserted are English
    login(client, world, "principal")
    before = db_state()
    response = client.post(
        reverse("people:class_create", args=[world.school.pk]),
        {"name": world.school_class.name},
        headers=HTMX,
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.startswith('<section id="class-panel"')
    assert "A class with this name already exists at this school." in content
    assert "<details open>" in content
    assert db_state() == before


def test_class_create_head_teacher_of_another_school_rejected(client, world):
    login(client, world, "principal")
    before = db_state()
    for value in (world.other_staff.pk, "abc", 10**25):
        response = client.post(
            reverse("people:class_create", args=[world.school.pk]),
            {"name": "新班", "head_teacher": value},
        )
        assert response.status_code == 400
        assert response.context["form"].errors["head_teacher"]
    assert db_state() == before


def test_add_child_rejects_bad_id_checksum(client, world):
    client.cookies["django_language"] = "en"  # the messages asserted are English
    good = NEW_CHILD_ID
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    login(client, world, "principal")
    before = db_state()
    url = reverse("people:child_create", args=[world.school_class.pk])
    data = {"name": "李小花", "gender": "female", "id_number": bad}
    response = client.post(url, data)
    assert response.status_code == 400
    assert response.context["form"].errors["id_number"] == [
        "The resident ID number's check digit is wrong; please re-check the number."
    ]
    assert "check digit is wrong" in response.content.decode()
    # Same message in place for htmx, still nothing written.
    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 200
    assert "check digit is wrong" in response.content.decode()
    assert db_state() == before
    assert not Child.objects.filter(name="李小花").exists()


def test_add_child_birth_date_mismatch_and_bad_date(client, world):
    login(client, world, "principal")
    before = db_state()
    url = reverse("people:child_create", args=[world.school_class.pk])
    base = {"name": "李小花", "gender": "female", "id_number": NEW_CHILD_ID}
    response = client.post(url, {**base, "birth_date": "2020-01-01"})
    assert response.status_code == 400
    assert response.context["form"].errors["birth_date"]
    response = client.post(url, {**base, "birth_date": "2021-13-45", "gender": "x"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"birth_date", "gender"}
    assert db_state() == before


def test_child_edit_keeps_id_number_when_blank(client, world):
    hash_before = world.child.id_number_hash
    login(client, world, "principal")
    response = client.post(
        reverse("people:child_edit", args=[world.child.pk]),
        {"name": "王小明", "gender": "male", "id_number": "", "is_active": "on"},
    )
    assert response.status_code == 302
    world.child.refresh_from_db()
    assert world.child.gender == "male"
    assert world.child.id_number_hash == hash_before


def test_child_move_to_class_of_another_school_rejected(client, world):
    login(client, world, "principal")
    before = db_state()
    response = client.post(
        reverse("people:child_move", args=[world.child.pk]),
        {"school_class": world.other_class.pk},
    )
    assert response.status_code == 400
    assert response.context["move_form"].errors["school_class"]
    assert db_state() == before


def test_delete_class_with_children_shows_the_reason(client, world):
    client.cookies["django_language"] = "en"  # the messages asserted are English
    login(client, world, "principal")
    before = db_state()
    response = client.post(reverse("people:class_delete", args=[world.school_class.pk]))
    assert response.status_code == 400
    assert "The class still has children" in response.content.decode()
    assert db_state() == before


def test_guardian_bad_phone_in_place(client, world):
    client.cookies["django_language"] = "en"  # the messages asserted are English
    login(client, world, "principal")
    before = db_state()
    response = client.post(
        reverse("people:guardian_create", args=[world.child.pk]),
        {"name": "王爸爸", "relationship": "father", "phone": "12"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Enter a mobile number" in response.content.decode()
    assert db_state() == before


def test_guardian_edit_htmx_get_opens_form_in_panel(client, world):
    response = login(client, world, "principal").get(
        reverse("people:guardian_edit", args=[world.guardian.pk]), headers=HTMX
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.startswith('<section id="guardians-panel"')
    assert f'id="guardian-{world.guardian.pk}-name"' in content


def test_certificate_expiry_before_issue_rejected(client, world):
    login(client, world, "principal")
    before = db_state()
    response = client.post(
        reverse("people:certificate_add", args=[world.staff.pk]),
        {"kind": "健康证", "issued_on": "2024-02-01", "expires_on": "2024-01-01"},
    )
    assert response.status_code == 400
    assert response.context["certificate_form"].errors["expires_on"]
    assert db_state() == before


def test_certificate_of_another_staff_member_is_404(client, world):
    certificate = Certificate.objects.create(staff=world.other_staff, kind="健康证")
    other_own_staff = StaffFactory(school=world.school)
    login(client, world, "principal")
    before = db_state()
    for staff_id in (world.staff.pk, other_own_staff.pk):
        url = reverse("people:certificate_remove", args=[staff_id, certificate.pk])
        assert client.post(url).status_code == 404
    assert db_state() == before


# ------------------------------------------------------------------ htmx partials


def test_class_list_htmx_returns_panel(client, world):
    url = f"{reverse('people:class_list')}?school={world.school.pk}"
    response = login(client, world, "principal").get(url, headers=HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.startswith('<section id="class-panel"')
    assert world.school_class.name in content
    assert "HX-Request" in response["Vary"]


def test_class_detail_live_search_returns_table_only(client, world):
    ChildFactory(school_class=world.school_class, name="李四")
    url = reverse("people:class_detail", args=[world.school_class.pk])
    login(client, world, "principal")
    full = client.get(url).content.decode()
    assert 'data-testid="children-table"' in full
    assert 'hx-trigger="keyup changed delay:300ms' in full
    response = client.get(url, {"q": "王"}, headers=HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.startswith('<div id="children-table"')
    assert 'data-testid="children-table"' in content
    assert "王小明" in content
    assert "李四" not in content
    assert "<html" not in content


def test_history_restore_gets_the_full_page(client, world):
    url = reverse("people:class_detail", args=[world.school_class.pk])
    response = login(client, world, "principal").get(
        url, headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


# ------------------------------------------------------------------ revealing ID numbers


def _reads(obj):
    return AuditEvent.objects.filter(
        action="read_sensitive", object_type=obj._meta.label_lower, object_id=str(obj.pk)
    )


def test_principal_reveals_child_id_number_and_the_read_is_logged(client, world):
    full = world.child.decrypt_id_number()
    login(client, world, "principal")
    response = client.post(reverse("people:child_reveal_id", args=[world.child.pk]), headers=HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.startswith('<div id="child-id-number"')
    assert full in content
    assert "no-store" in response["Cache-Control"]
    read = _reads(world.child).get()
    assert read.actor == world.users["principal"]
    assert read.school_id == world.school.pk


def test_reveal_without_htmx_renders_a_page(client, world):
    login(client, world, "principal")
    response = client.post(reverse("people:child_reveal_id", args=[world.child.pk]))
    assert response.status_code == 200
    assert world.child.decrypt_id_number() in response.content.decode()
    assert _reads(world.child).count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 403),
        ("guard", 403),
        ("officer", 403),
        ("county", 403),
        ("principal2", 404),
        ("nobody", 404),
        ("anonymous", 204),  # htmx: HX-Redirect to the login page
    ],
)
def test_reveal_denied_writes_no_read_row(client, world, who, status):
    login(client, world, who)
    response = client.post(reverse("people:child_reveal_id", args=[world.child.pk]), headers=HTMX)
    assert response.status_code == status
    assert world.child.decrypt_id_number() not in response.content.decode()
    assert not _reads(world.child).exists()


def test_police_commander_may_reveal(client, world):
    login(client, world, "police")
    response = client.post(reverse("people:child_reveal_id", args=[world.child.pk]))
    assert response.status_code == 200
    assert _reads(world.child).filter(actor=world.users["police"]).exists()


def test_reveal_is_post_only(client, world):
    login(client, world, "principal")
    response = client.get(reverse("people:child_reveal_id", args=[world.child.pk]))
    assert response.status_code == 405
    assert not _reads(world.child).exists()


def test_reveal_guardian_and_staff_id_numbers(client, world):
    number = make_id_number("110101", dt.date(1990, 1, 2), 5)
    world.guardian.set_id_number(number)
    world.guardian.save()
    world.staff.set_id_number(number)
    world.staff.save()
    login(client, world, "principal")
    for name, obj in (("guardian_reveal_id", world.guardian), ("staff_reveal_id", world.staff)):
        response = client.post(reverse(f"people:{name}", args=[obj.pk]), headers=HTMX)
        assert response.status_code == 200
        assert number in response.content.decode()
        assert _reads(obj).count() == 1
    client.logout()
    login(client, world, "teacher")
    for name, obj in (("guardian_reveal_id", world.guardian), ("staff_reveal_id", world.staff)):
        assert client.post(reverse(f"people:{name}", args=[obj.pk])).status_code == 403
        assert _reads(obj).count() == 1


# ------------------------------------------------------------------ query counts


def test_class_detail_with_50_children_bounded_queries(
    client, world, django_assert_max_num_queries
):
    for n in range(49):
        ChildFactory(school_class=world.school_class, name=f"孩子{n:02d}")
    login(client, world, "principal")
    url = reverse("people:class_detail", args=[world.school_class.pk])
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    assert len(re.findall(r'href="/people/children/\d+/"', response.content.decode())) == 50


def test_staff_list_with_50_staff_bounded_queries(client, world, django_assert_max_num_queries):
    for n in range(49):
        StaffFactory(school=world.school, name=f"教工{n:02d}")
    login(client, world, "principal")
    url = f"{reverse('people:staff_list')}?school={world.school.pk}"
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    assert len(re.findall(r'href="/people/staff/\d+/"', response.content.decode())) == 50


def test_class_list_bounded_queries(client, world, django_assert_max_num_queries):
    for n in range(30):
        SchoolClassFactory(school=world.school, name=f"班{n:02d}")
    login(client, world, "principal")
    with django_assert_max_num_queries(15):
        response = client.get(reverse("people:class_list"))
    assert response.status_code == 200
