# ruff: noqa: F811 - pytest fixtures imported from campaign_fixtures are arguments here
"""Campaign services and selectors: creating and editing drafts (dates, schools within the
office's scope, items from a checklist), start and close, the school's self-check and its
gap list, the reviewers' moves, every transition allowed and refused, role × scope."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Role
from huxiao.core.scoping import clear_scope_cache
from huxiao.hazards.choices import InspectionKind
from huxiao.hazards.models import ChecklistTemplate, Inspection, TemplateItem
from huxiao.notify.models import Delivery, Notification
from huxiao.orgs.tests.factories import MembershipFactory, SchoolFactory, UserFactory
from huxiao.supervision import campaign_selectors as sel
from huxiao.supervision import campaign_services as cs
from huxiao.supervision.campaign_models import (
    Campaign,
    CampaignAnswer,
    CampaignEvent,
    CampaignItem,
    CampaignSchool,
)
from huxiao.supervision.choices import (
    CampaignResult,
    CampaignSchoolStatus,
    CampaignStatus,
    GapStatus,
)
from huxiao.supervision.tests.campaign_fixtures import (
    ITEMS,
    TODAY,
    advance,
    answer_all,
    at,
    campaign,  # noqa: F401
    day,
    entry_of,
    items_of,
    make_campaign,
)

pytestmark = pytest.mark.django_db
ES = CampaignSchoolStatus
NOW = at(TODAY, "08:00")


def create(w, actor="edu", **kwargs):
    data = {
        "title": "专项自查",
        "self_check_due": day(7),
        "spot_check_due": day(14),
        "acceptance_due": day(30),
        "items": ITEMS,
        "schools": [w.school.pk],
        "now": NOW,
    }
    data.update(kwargs)
    return cs.campaign_create(actor=w.users[actor] if isinstance(actor, str) else actor, **data)


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


# ------------------------------------------------------------------ create


@pytest.mark.parametrize("name", ["edu", "gov", "county"])
def test_managers_create_a_draft(sworld, name):
    w = sworld
    campaign = create(w, name)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.owner == w.users[name].memberships.get().organization
    assert [i.text for i in items_of(campaign)] == [i["text"] for i in ITEMS]
    assert list(campaign.schools.values_list("school_id", flat=True)) == [w.school.pk]
    assert AuditEvent.objects.filter(object_type="supervision.campaign").count() == 1
    # The draft's rows are filed under the office, not the school.
    assert not AuditEvent.objects.filter(school_id=w.school.pk).exists()


@pytest.mark.parametrize("name", ["principal", "security", "teacher", "police", "nobody"])
def test_others_may_not_create(sworld, name):
    with pytest.raises(PermissionDenied):
        create(sworld, name)
    assert not Campaign.objects.exists()


def test_dates_must_be_ordered_and_not_past(sworld):
    w = sworld
    with pytest.raises(ValidationError) as exc:
        create(w, self_check_due=day(-1), spot_check_due=day(3), acceptance_due=day(2))
    errors = errors_of(exc)
    assert "self_check_due" in errors and "acceptance_due" in errors
    with pytest.raises(ValidationError) as exc:
        create(w, self_check_due=day(5), spot_check_due=day(4), acceptance_due=day(6))
    assert list(errors_of(exc)) == ["spot_check_due"]
    with pytest.raises(ValidationError) as exc:
        create(w, acceptance_due=day(400), self_check_due="2025-13-40")
    assert set(errors_of(exc)) == {"acceptance_due", "self_check_due"}
    with pytest.raises(ValidationError) as exc:
        create(w, spot_check_due=None)
    assert "spot_check_due" in errors_of(exc)
    # Equal dates are fine.
    create(w, self_check_due=day(0), spot_check_due=day(0), acceptance_due=day(0))
    assert Campaign.objects.count() == 1


def test_schools_only_within_the_office_scope(sworld):
    w = sworld
    with pytest.raises(ValidationError) as exc:
        create(w, schools=[w.school.pk, w.far_school.pk])
    message = errors_of(exc)["schools"][0]
    assert str(w.far_school.pk) in message and w.far_school.name not in message
    assert not Campaign.objects.exists()
    # The county sees both towns.
    campaign = create(w, "county", schools=[w.school.pk, w.far_school.pk])
    assert campaign.schools.count() == 2


def test_all_schools_of_my_town_in_one_click(sworld):
    w = sworld
    inactive = SchoolFactory(town=w.town, name="停办学校", is_active=False)
    campaign = create(w, schools=[], all_schools=True)
    ids = set(campaign.schools.values_list("school_id", flat=True))
    assert ids == {w.school.pk, w.other_school.pk}
    assert inactive.pk not in ids
    # The county by town.
    campaign = create(w, "county", schools=[], towns=[w.other_town.pk])
    assert set(campaign.schools.values_list("school_id", flat=True)) == {w.far_school.pk}
    with pytest.raises(ValidationError) as exc:
        create(w, schools=[], towns=[w.other_town.pk])
    assert "towns" in errors_of(exc)


def test_items_from_a_published_checklist(sworld):
    w = sworld
    from huxiao.hazards.shipped_templates import load_shipped_templates

    load_shipped_templates()
    template = ChecklistTemplate.objects.filter(is_published=True, owner__isnull=True).first()
    expected = list(
        TemplateItem.objects.filter(section__template=template)
        .order_by("section__order", "section_id", "order", "id")
        .values_list("text", flat=True)
    )
    campaign = create(w, template=template.pk, items=[{"text": "另加一项"}])
    assert [i.text for i in items_of(campaign)] == [*expected, "另加一项"]
    assert campaign.template_id == template.pk
    draft = ChecklistTemplate.objects.create(
        code="draft-x", name="草稿", kind="custom", owner=w.edu_office
    )
    with pytest.raises(ValidationError) as exc:
        create(w, template=draft.pk)
    assert "template" in errors_of(exc)


def test_item_limits(sworld):
    w = sworld
    with pytest.raises(ValidationError) as exc:
        create(w, items=[{"text": ""}, {"text": "x" * 501}, {"text": "ok", "reference": "r" * 101}])
    assert len(errors_of(exc)["items"]) == 3
    with pytest.raises(ValidationError) as exc:
        create(w, items=[{"text": f"第{i}项"} for i in range(201)])
    assert "items" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        create(w, title="  ", items=[{"text": "a\x00b"}])
    assert set(errors_of(exc)) == {"title", "items"}
    assert not Campaign.objects.exists()


def test_owner_must_be_one_of_my_offices(sworld):
    w = sworld
    gov_office = w.users["gov"].memberships.get().organization
    with pytest.raises(ValidationError) as exc:
        create(w, owner=gov_office.pk)
    assert "owner" in errors_of(exc)


# ------------------------------------------------------------------ draft edits, start, close


def test_draft_edits_then_frozen(sworld):
    w = sworld
    campaign = make_campaign(w, start=False)
    cs.campaign_update(
        actor=w.users["edu"],
        campaign=campaign,
        title="改名",
        items=[{"text": "唯一一项"}],
        schools=[w.other_school.pk],
        spot_check_due=day(20),
        now=NOW,
    )
    campaign.refresh_from_db()
    assert campaign.title == "改名" and campaign.spot_check_due == day(20)
    assert [i.text for i in items_of(campaign)] == ["唯一一项"]
    assert list(campaign.schools.values_list("school_id", flat=True)) == [w.other_school.pk]
    with pytest.raises(ValidationError) as exc:
        cs.campaign_update(actor=w.users["edu"], campaign=campaign, acceptance_due=day(10), now=NOW)
    assert "acceptance_due" in errors_of(exc)
    # Another office's manager cannot see a draft; a reviewer from the county neither.
    for name in ("gov", "county", "principal"):
        with pytest.raises(Http404):
            cs.campaign_update(actor=w.users[name], campaign=campaign, title="x", now=NOW)
    cs.campaign_start(actor=w.users["edu"], campaign=campaign, now=NOW)
    with pytest.raises(cs.CampaignRefused):
        cs.campaign_update(actor=w.users["edu"], campaign=campaign, title="x", now=NOW)


def test_start_needs_items_schools_and_future_dates(sworld):
    w = sworld
    empty = make_campaign(w, start=False, items=[], schools=[])
    with pytest.raises(ValidationError) as exc:
        cs.campaign_start(actor=w.users["edu"], campaign=empty, now=NOW)
    assert set(errors_of(exc)) == {"items", "schools"}
    stale = make_campaign(w, start=False)
    with pytest.raises(ValidationError) as exc:
        cs.campaign_start(actor=w.users["edu"], campaign=stale, now=at(day(8)))
    assert "self_check_due" in errors_of(exc)
    assert Campaign.objects.filter(status=CampaignStatus.DRAFT).count() == 2


def test_start_notifies_the_school_leaders_once(sworld):
    w = sworld
    campaign = make_campaign(w, start=False)
    cs.campaign_start(actor=w.users["edu"], campaign=campaign, now=NOW)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING and campaign.started_at == NOW
    told = set(
        Delivery.objects.filter(notification__event_type="campaigns.started").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"principal", "security", "principal2"}
    assert Notification.objects.filter(event_type="campaigns.started").count() == 2
    with pytest.raises(cs.CampaignRefused):
        cs.campaign_start(actor=w.users["edu"], campaign=campaign, now=NOW)


@pytest.mark.parametrize("name", ["gov", "county"])
def test_only_the_owner_office_starts_and_closes(sworld, campaign, name):
    w = sworld
    with pytest.raises(PermissionDenied):
        cs.campaign_close(actor=w.users[name], campaign=campaign, now=NOW)
    with pytest.raises(PermissionDenied):  # sees it (its school's entry), may not close it
        cs.campaign_close(actor=w.users["principal"], campaign=campaign, now=NOW)
    with pytest.raises(Http404):
        cs.campaign_close(actor=w.users["police"], campaign=campaign, now=NOW)
    cs.campaign_close(actor=w.users["edu"], campaign=campaign, now=NOW)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    with pytest.raises(cs.CampaignRefused):
        cs.campaign_close(actor=w.users["edu"], campaign=campaign, now=NOW)
    with pytest.raises(cs.CampaignRefused):
        cs.campaign_start(actor=w.users["edu"], campaign=campaign, now=NOW)


# ------------------------------------------------------------------ visibility


@pytest.mark.parametrize(
    ("name", "draft", "running_schools"),
    [
        ("edu", True, 2),
        ("gov", False, 2),
        ("county", False, 2),
        ("principal", False, 1),
        ("teacher", False, 1),
        ("principal2", False, 1),
        ("police", False, None),
        ("farpolice", False, None),
        ("nobody", False, None),
    ],
)
def test_who_sees_what(sworld, name, draft, running_schools):
    w = sworld
    draft_campaign = make_campaign(w, start=False, title="草稿")
    running = make_campaign(w)
    user = w.users[name]
    visible = set(sel.campaigns_visible(user).values_list("pk", flat=True))
    assert (draft_campaign.pk in visible) is draft
    assert (running.pk in visible) is (running_schools is not None)
    if running_schools is not None:
        entries = sel.campaign_entries(actor=user, campaign=running, today=TODAY)
        assert len(entries) == running_schools
    assert sel.is_campaign_user(user) is (name not in ("police", "farpolice", "nobody"))


def test_entry_get_scope(sworld, campaign):
    w = sworld
    assert sel.entry_get(actor=w.users["principal"], campaign_id=campaign.pk, school_id=w.school.pk)
    with pytest.raises(Http404):
        sel.entry_get(
            actor=w.users["principal"], campaign_id=campaign.pk, school_id=w.other_school.pk
        )
    with pytest.raises(Http404):
        sel.entry_get(actor=w.users["police"], campaign_id=campaign.pk, school_id=w.school.pk)
    with pytest.raises(Http404):
        sel.entry_get(actor=w.users["edu"], campaign_id=campaign.pk, school_id=w.far_school.pk)


# ------------------------------------------------------------------ answers and gaps


def test_answers_and_gap_rules(sworld, campaign):
    w = sworld
    entry = entry_of(campaign, w.school)
    item = items_of(campaign)[0]
    principal = w.users["principal"]
    with pytest.raises(ValidationError) as exc:
        cs.campaign_answer(
            actor=principal, entry=entry, item=item, result=CampaignResult.GAP, now=NOW
        )
    assert set(errors_of(exc)) == {"note", "gap_owner", "gap_deadline"}
    for deadline, field in ((day(-1), "gap_deadline"), (day(31), "gap_deadline")):
        with pytest.raises(ValidationError) as exc:
            cs.campaign_answer(
                actor=principal,
                entry=entry,
                item=item,
                result=CampaignResult.GAP,
                note="缺",
                gap_owner=w.users["guard"],
                gap_deadline=deadline,
                now=NOW,
            )
        assert list(errors_of(exc)) == [field]
    # The owner must be a member of the school; named by number only.
    with pytest.raises(ValidationError) as exc:
        cs.campaign_answer(
            actor=principal,
            entry=entry,
            item=item,
            result=CampaignResult.GAP,
            note="缺",
            gap_owner=w.users["principal2"],
            gap_deadline=day(3),
            now=NOW,
        )
    assert str(w.users["principal2"].pk) in errors_of(exc)["gap_owner"][0]
    with pytest.raises(ValidationError):
        cs.campaign_answer(actor=principal, entry=entry, item=item, result="maybe", now=NOW)
    assert not CampaignAnswer.objects.exists()

    answer = cs.campaign_answer(
        actor=principal,
        entry=entry,
        item=item,
        result=CampaignResult.GAP,
        note="缺一名保安",
        gap_owner=w.users["guard"],
        gap_deadline=day(30),  # the acceptance date itself is allowed
        now=NOW,
    )
    assert answer.gap_status == GapStatus.OPEN and answer.gap_owner == w.users["guard"]
    # Changed to meets: the gap goes away.
    answer = cs.campaign_answer(
        actor=w.users["security"], entry=entry, item=item, result=CampaignResult.MEETS, now=NOW
    )
    assert answer.gap_status == "" and answer.gap_owner is None and answer.gap_deadline is None
    assert CampaignAnswer.objects.count() == 1
    assert (
        AuditEvent.objects.filter(
            object_type="supervision.campaignanswer", school_id=w.school.pk
        ).count()
        == 2
    )


def test_an_item_of_another_campaign_is_refused(sworld, campaign):
    w = sworld
    other = make_campaign(w, title="另一个")
    with pytest.raises(ValidationError) as exc:
        cs.campaign_answer(
            actor=w.users["principal"],
            entry=entry_of(campaign, w.school),
            item=items_of(other)[0],
            result=CampaignResult.MEETS,
            now=NOW,
        )
    assert "item" in errors_of(exc)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("principal", None),
        ("security", None),
        ("teacher", PermissionDenied),
        ("guard", PermissionDenied),
        ("edu", PermissionDenied),  # INSPECT there, but from outside: not the self-check
        ("principal2", Http404),
        ("police", Http404),
        ("nobody", Http404),
    ],
)
def test_who_answers(sworld, campaign, name, expected):
    w = sworld
    entry = entry_of(campaign, w.school)
    item = items_of(campaign)[0]

    def call():
        return cs.campaign_answer(
            actor=w.users[name], entry=entry, item=item, result=CampaignResult.MEETS, now=NOW
        )

    if expected is None:
        assert call().result == CampaignResult.MEETS
    else:
        with pytest.raises(expected):
            call()
        assert not CampaignAnswer.objects.exists()


def test_no_answers_before_start_after_submit_or_close(sworld):
    w = sworld
    draft = make_campaign(w, start=False)
    item = items_of(draft)[0]
    with pytest.raises(Http404):  # a draft is the office's business
        cs.campaign_answer(
            actor=w.users["principal"],
            entry=entry_of(draft, w.school),
            item=item,
            result=CampaignResult.MEETS,
            now=NOW,
        )
    campaign = make_campaign(w)
    entry = advance(w, campaign, "submitted")
    with pytest.raises(cs.CampaignRefused):
        cs.campaign_answer(
            actor=w.users["principal"],
            entry=entry,
            item=items_of(campaign)[0],
            result=CampaignResult.GAP,
            now=NOW,
        )
    cs.campaign_close(actor=w.users["edu"], campaign=campaign, now=NOW)
    other = entry_of(campaign, w.other_school)
    with pytest.raises(cs.CampaignRefused) as exc:
        cs.campaign_answer(
            actor=w.users["principal2"],
            entry=other,
            item=items_of(campaign)[0],
            result=CampaignResult.MEETS,
            now=NOW,
        )
    with translation.override("en"):
        assert "closed" in exc.value.messages[0]


def test_submit_needs_every_item(sworld, campaign):
    w = sworld
    entry = entry_of(campaign, w.school)
    cs.campaign_answer(
        actor=w.users["principal"],
        entry=entry,
        item=items_of(campaign)[0],
        result=CampaignResult.MEETS,
        now=NOW,
    )
    with pytest.raises(ValidationError) as exc:
        cs.entry_submit(actor=w.users["principal"], entry=entry, now=NOW)
    assert ITEMS[1]["text"] in errors_of(exc)["answers"][0]
    assert entry_of(campaign, w.school).status == ES.SELF_CHECKING
    entry = answer_all(w, campaign, gaps=(1,))
    with pytest.raises(PermissionDenied):
        cs.entry_submit(actor=w.users["teacher"], entry=entry, now=NOW)
    with pytest.raises(PermissionDenied):
        cs.entry_submit(actor=w.users["edu"], entry=entry, now=NOW)
    entry = cs.entry_submit(actor=w.users["security"], entry=entry, now=NOW)
    assert entry.status == ES.SUBMITTED and entry.submitted_by == w.users["security"]
    with pytest.raises(cs.CampaignRefused):
        cs.entry_submit(actor=w.users["principal"], entry=entry, now=NOW)
    event = CampaignEvent.objects.get(entry=entry)
    assert (event.from_status, event.to_status) == (ES.SELF_CHECKING, ES.SUBMITTED)


# ------------------------------------------------------------------ reviewers


def test_full_way_with_a_return(sworld, campaign):
    w = sworld
    entry = advance(w, campaign, "submitted", gaps=(0,))
    edu = w.users["edu"]
    with pytest.raises(ValidationError) as exc:
        cs.entry_return(actor=edu, entry=entry, reason="  ", now=NOW)
    assert "reason" in errors_of(exc)
    entry = cs.entry_return(actor=edu, entry=entry, reason="第二项没有依据", now=NOW)
    assert entry.status == ES.RETURNED and entry.review_note == "第二项没有依据"
    assert Delivery.objects.filter(
        notification__event_type="campaigns.returned", recipient=w.users["principal"]
    ).exists()
    # The school changes an answer and resubmits.
    cs.campaign_answer(
        actor=w.users["principal"],
        entry=entry,
        item=items_of(campaign)[1],
        result=CampaignResult.NOT_APPLICABLE,
        note="本园无此设施",
        now=NOW,
    )
    entry = cs.entry_submit(actor=w.users["principal"], entry=entry, now=NOW)
    entry = cs.entry_spot_check(actor=w.users["gov"], entry=entry, note="抽查", now=NOW)
    assert entry.status == ES.SPOT_CHECKED and entry.reviewed_by == w.users["gov"]
    # An open gap blocks the acceptance (409), with the item named.
    with pytest.raises(cs.CampaignRefused) as exc:
        cs.entry_accept(actor=edu, entry=entry, now=NOW)
    assert ITEMS[0]["text"] in exc.value.messages[0]
    assert entry_of(campaign, w.school).status == ES.SPOT_CHECKED
    gap = CampaignAnswer.objects.get(entry=entry, result=CampaignResult.GAP)
    cs.gap_fix(actor=w.users["security"], answer=gap, note="已招聘", now=NOW)
    entry = cs.entry_accept(actor=w.users["county"], entry=entry, note="通过", now=NOW)
    assert entry.status == ES.ACCEPTED and entry.accepted_by == w.users["county"]
    moves = list(
        CampaignEvent.objects.filter(entry=entry)
        .order_by("id")
        .values_list("from_status", "to_status")
    )
    assert moves == [
        (ES.SELF_CHECKING, ES.SUBMITTED),
        (ES.SUBMITTED, ES.RETURNED),
        (ES.RETURNED, ES.SUBMITTED),
        (ES.SUBMITTED, ES.SPOT_CHECKED),
        (ES.SPOT_CHECKED, ES.SPOT_CHECKED),  # the gap fixed
        (ES.SPOT_CHECKED, ES.ACCEPTED),
    ]
    # Accepted is final.
    for call in (
        lambda: cs.entry_return(actor=edu, entry=entry, reason="x", now=NOW),
        lambda: cs.entry_spot_check(actor=edu, entry=entry, note="x", now=NOW),
        lambda: cs.entry_accept(actor=edu, entry=entry, now=NOW),
        lambda: cs.entry_submit(actor=w.users["principal"], entry=entry, now=NOW),
    ):
        with pytest.raises(cs.CampaignRefused):
            call()


@pytest.mark.parametrize(
    ("move", "state", "allowed"),
    [
        ("return", "self_checking", False),
        ("return", "submitted", True),
        ("return", "spot_checked", True),
        ("spot_check", "self_checking", False),
        ("spot_check", "submitted", True),
        ("spot_check", "spot_checked", False),
        ("accept", "self_checking", False),
        ("accept", "submitted", False),
        ("accept", "spot_checked", True),
    ],
)
def test_reviewer_transitions(sworld, campaign, move, state, allowed):
    w = sworld
    entry = (
        entry_of(campaign, w.school) if state == "self_checking" else advance(w, campaign, state)
    )
    edu = w.users["edu"]
    calls = {
        "return": lambda: cs.entry_return(actor=edu, entry=entry, reason="r", now=NOW),
        "spot_check": lambda: cs.entry_spot_check(actor=edu, entry=entry, note="n", now=NOW),
        "accept": lambda: cs.entry_accept(actor=edu, entry=entry, now=NOW),
    }
    if allowed:
        assert calls[move]().status == cs.ENTRY_MOVES[move].target
    else:
        with pytest.raises(cs.CampaignRefused):
            calls[move]()
        assert entry_of(campaign, w.school).status == state


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("edu", None),
        ("gov", None),
        ("county", None),
        ("principal", PermissionDenied),  # own school
        ("security", PermissionDenied),
        ("principal2", Http404),
        ("police", Http404),
        ("farpolice", Http404),
    ],
)
def test_who_reviews(sworld, campaign, name, expected):
    w = sworld
    entry = advance(w, campaign, "submitted")
    call = lambda: cs.entry_spot_check(actor=w.users[name], entry=entry, note="n", now=NOW)  # noqa: E731
    if expected is None:
        assert call().status == ES.SPOT_CHECKED
    else:
        with pytest.raises(expected):
            call()
        assert entry_of(campaign, w.school).status == ES.SUBMITTED


def test_own_school_members_never_review(sworld, campaign):
    """A supervisor of the education office who also teaches at the school."""
    w = sworld
    both = UserFactory(username="both")
    MembershipFactory(user=both, organization=w.edu_office, role=Role.EDUCATION_SUPERVISOR)
    MembershipFactory(user=both, organization=w.school, role=Role.TEACHER)
    entry = advance(w, campaign, "submitted")
    with pytest.raises(PermissionDenied) as exc:
        cs.entry_return(actor=both, entry=entry, reason="x", now=NOW)
    with translation.override("en"):
        assert "outside the school" in str(exc.value)
    assert cs.allowed_moves(both, entry) == []
    # As a manager of the campaign, the same person still reviews the other school.
    other = advance(w, campaign, "submitted", school=w.other_school)
    assert cs.entry_spot_check(actor=both, entry=other, note="n", now=NOW).status == (
        ES.SPOT_CHECKED
    )


def test_spot_check_inspection_link(sworld, campaign):
    w = sworld
    from huxiao.hazards.shipped_templates import load_shipped_templates

    load_shipped_templates()
    template = ChecklistTemplate.objects.filter(is_published=True).first()

    def inspection(school, kind, status):
        return Inspection.objects.create(
            school=school,
            template=template,
            kind=kind,
            organization=w.edu_office,
            planned_on=TODAY,
            status=status,
        )

    entry = advance(w, campaign, "submitted")
    edu = w.users["edu"]
    for bad in (
        inspection(w.school, InspectionKind.SELF_CHECK, "signed_off"),
        inspection(w.school, InspectionKind.CENTRAL_SCHOOL, "planned"),
        inspection(w.other_school, InspectionKind.CENTRAL_SCHOOL, "signed_off"),
        inspection(w.far_school, InspectionKind.CENTRAL_SCHOOL, "signed_off"),
    ):
        with pytest.raises(ValidationError) as exc:
            cs.entry_spot_check(actor=edu, entry=entry, note="n", inspection=bad.pk, now=NOW)
        assert "inspection" in errors_of(exc)
    good = inspection(w.school, InspectionKind.CENTRAL_SCHOOL, "signed_off")
    entry = cs.entry_spot_check(actor=edu, entry=entry, note="n", inspection=good.pk, now=NOW)
    assert entry.spot_check == good


# ------------------------------------------------------------------ gaps fixed


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("security", None),  # the owner
        ("principal", None),  # a leader of the school
        ("teacher", PermissionDenied),
        ("edu", PermissionDenied),
        ("principal2", Http404),
        ("police", Http404),
    ],
)
def test_who_marks_a_gap_fixed(sworld, campaign, name, expected):
    w = sworld
    answer_all(w, campaign, gaps=(0,))
    gap = CampaignAnswer.objects.get(result=CampaignResult.GAP)
    call = lambda: cs.gap_fix(actor=w.users[name], answer=gap, note="已整改", now=NOW)  # noqa: E731
    if expected is None:
        assert call().gap_status == GapStatus.FIXED
    else:
        with pytest.raises(expected):
            call()
        gap.refresh_from_db()
        assert gap.gap_status == GapStatus.OPEN


def test_gap_fix_rules(sworld, campaign):
    w = sworld
    entry = answer_all(w, campaign, gaps=(0,))
    gap = CampaignAnswer.objects.get(result=CampaignResult.GAP)
    meets = CampaignAnswer.objects.filter(result=CampaignResult.MEETS).first()
    security = w.users["security"]
    with pytest.raises(ValidationError) as exc:
        cs.gap_fix(actor=security, answer=gap, note="", now=NOW)
    assert "note" in errors_of(exc)
    with pytest.raises(cs.CampaignRefused):
        cs.gap_fix(actor=w.users["principal"], answer=meets, note="x", now=NOW)
    cs.gap_fix(actor=security, answer=gap, note="已整改", now=NOW)
    with pytest.raises(cs.CampaignRefused):
        cs.gap_fix(actor=security, answer=gap, note="再来", now=NOW)
    # Answered again as a gap by the same owner, it stays fixed; another owner reopens it.
    item = items_of(campaign)[0]
    kwargs = dict(
        actor=w.users["principal"],
        entry=entry,
        item=item,
        result=CampaignResult.GAP,
        note="缺少",
        gap_deadline=day(6),
        now=NOW,
    )
    assert cs.campaign_answer(gap_owner=security, **kwargs).gap_status == GapStatus.FIXED
    assert cs.campaign_answer(gap_owner=w.users["guard"], **kwargs).gap_status == GapStatus.OPEN
    # Closed campaign: nothing more.
    cs.campaign_close(actor=w.users["edu"], campaign=campaign, now=NOW)
    with pytest.raises(cs.CampaignRefused):
        cs.gap_fix(actor=w.users["guard"], answer=gap, note="x", now=NOW)


def test_reviewer_moves_refused_when_closed(sworld, campaign):
    w = sworld
    entry = advance(w, campaign, "submitted")
    cs.campaign_close(actor=w.users["edu"], campaign=campaign, now=NOW)
    with pytest.raises(cs.CampaignRefused) as exc:
        cs.entry_spot_check(actor=w.users["edu"], entry=entry, note="n", now=NOW)
    with translation.override("en"):
        assert "closed" in exc.value.messages[0]
    assert cs.allowed_moves(w.users["edu"], entry_of(campaign, w.school)) == []


# ------------------------------------------------------------------ progress


def test_progress_per_school_and_town(sworld):
    w = sworld
    third = SchoolFactory(town=w.town, name="第三校")
    campaign = make_campaign(w, schools=[w.school.pk, w.other_school.pk, third.pk])
    advance(w, campaign, "accepted", school=w.other_school)
    answer_all(w, campaign, gaps=(0, 1), now=at(TODAY, "10:00"))
    clear_scope_cache(w.users["edu"])
    entries = sel.campaign_entries(actor=w.users["edu"], campaign=campaign, today=day(8))
    by_school = {e.school_id: e for e in entries}
    mine = by_school[w.school.pk]
    assert (mine.answered, mine.gaps_open, mine.gaps_overdue) == (3, 2, 2)
    assert mine.overdue == "self_check"
    assert by_school[w.other_school.pk].overdue == ""
    total, towns = sel.campaign_progress(entries)
    assert total.schools == 3 and total.accepted_pct == 33 and total.gaps_open == 2
    assert total.by_status[ES.ACCEPTED] == 1 and total.by_status[ES.SELF_CHECKING] == 2
    assert total.late == 2
    assert [t.schools for t in towns] == [3]
    assert not sel.show_town_totals(campaign, towns)
    county = make_campaign(
        w, actor=w.users["county"], schools=[w.school.pk, w.far_school.pk], title="全县"
    )
    entries = sel.campaign_entries(actor=w.users["county"], campaign=county, today=TODAY)
    total, towns = sel.campaign_progress(entries)
    assert len(towns) == 2 and sel.show_town_totals(county, towns)


def test_deleting_schools_from_a_draft_is_audited(sworld):
    w = sworld
    campaign = make_campaign(w, start=False)
    cs.campaign_update(actor=w.users["edu"], campaign=campaign, schools=[w.school.pk], now=NOW)
    assert CampaignSchool.objects.filter(campaign=campaign).count() == 1
    assert (
        AuditEvent.objects.filter(object_type="supervision.campaignschool", action="delete").count()
        == 1
    )
    assert CampaignItem.objects.filter(campaign=campaign).count() == len(ITEMS)
