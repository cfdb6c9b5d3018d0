"""Listed supervision (挂牌督办): who may list where (role × scope), bad input, listing a
hazard, automatic listing of major hazards, editing, lifting (摘牌) and who sees what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import OrgKind
from huxiao.core.scoping import clear_scope_cache
from huxiao.hazards import listing_selectors as selectors
from huxiao.hazards import listing_services as ls
from huxiao.hazards.choices import HazardLevel, HazardStatus, ListingStatus
from huxiao.hazards.models import ListedSupervision
from huxiao.hazards.tests import listing_fixtures
from huxiao.hazards.tests.hazard_fixtures import MONDAY, advance, at, day, report
from huxiao.hazards.tests.listing_fixtures import NOW, list_problem
from huxiao.notify.models import Delivery
from huxiao.orgs.models import Organization

pytestmark = pytest.mark.django_db
lworld = listing_fixtures.lworld


def inbox(user) -> list[str]:
    return [
        d.notification.event_type
        for d in Delivery.objects.filter(recipient=user, channel="inbox").select_related(
            "notification"
        )
    ]


# ------------------------------------------------------------------ create: role × scope


def test_gov_lists_a_problem_under_its_own_office(lworld):
    w = lworld
    listing = list_problem(w)
    assert listing.status == ListingStatus.ACTIVE
    assert listing.supervising_org == w.gov_office
    assert listing.listed_by == w.users["gov"] and listing.listed_at == NOW
    assert listing.hazard is None and listing.reference == "挂督〔2025〕1号"
    assert AuditEvent.objects.filter(
        object_type="hazards.listedsupervision", object_id=str(listing.pk), action="create"
    ).exists()
    assert "listings.listed" in inbox(w.users["principal"])
    assert "listings.listed" not in inbox(w.users["gov"])


def test_county_lists_under_the_county_office_or_the_town_one_is_refused(lworld):
    w = lworld
    listing = list_problem(w, actor=w.users["county"])
    assert listing.supervising_org == w.county_office
    with pytest.raises(ValidationError) as exc:
        list_problem(w, actor=w.users["county"], reference="", supervising_org=w.gov_office)
    assert "supervising_org" in exc.value.message_dict


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("principal", PermissionDenied),
        ("security", PermissionDenied),
        ("teacher", PermissionDenied),
        ("edu", PermissionDenied),
        ("police", PermissionDenied),
        ("market", PermissionDenied),
        ("fargov", Http404),
        ("farpolice", Http404),
        ("nobody", Http404),
    ],
)
def test_who_may_not_list(lworld, name, error):
    w = lworld
    with pytest.raises(error):
        list_problem(w, actor=w.users[name])
    assert not ListedSupervision.objects.exists()


def test_fargov_lists_its_own_town_only(lworld):
    w = lworld
    listing = list_problem(w, actor=w.users["fargov"], school=w.far_school)
    assert listing.supervising_org == w.far_gov_office


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"deadline": MONDAY - dt.timedelta(days=1)}, "deadline"),
        ({"deadline": MONDAY + dt.timedelta(days=400)}, "deadline"),
        ({"deadline": None}, "deadline"),
        ({"deadline": "not a date"}, "deadline"),
        ({"reason": "  "}, "reason"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"reference": "挂督\n3号"}, "reference"),
        ({"reference": "x" * 61}, "reference"),
        ({"reason": "bad\x00char"}, "reason"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(lworld, kwargs, field):
    w = lworld
    with pytest.raises(ValidationError) as exc:
        list_problem(w, **kwargs)
    assert field in exc.value.message_dict
    assert not ListedSupervision.objects.exists()


def test_deadline_today_is_allowed(lworld):
    assert list_problem(lworld, deadline=MONDAY).deadline == MONDAY


def test_reference_unique_per_office(lworld):
    w = lworld
    list_problem(w)
    with pytest.raises(ValidationError) as exc:
        list_problem(w, title="另一个问题")
    assert "reference" in exc.value.message_dict
    # Another office may use the same number.
    assert list_problem(w, actor=w.users["county"], title="另一个问题").reference


def test_a_non_school_is_refused(lworld):
    w = lworld
    with pytest.raises(Http404):
        list_problem(w, school=w.gov_office)


# ------------------------------------------------------------------ listing a hazard


def test_gov_lists_a_general_hazard_and_only_once(lworld):
    w = lworld
    hazard = report(w)
    listing = ls.listing_create(
        actor=w.users["gov"], hazard=hazard, reason="群众反映强烈", deadline=day(10), now=NOW
    )
    assert listing.school == w.school and listing.title == hazard.title
    with pytest.raises(ls.ListingRefused):
        ls.listing_create(
            actor=w.users["county"], hazard=hazard, reason="再挂", deadline=day(10), now=NOW
        )
    assert ListedSupervision.objects.count() == 1


def test_a_closed_hazard_cannot_be_listed(lworld):
    w = lworld
    hazard = advance(w, report(w), "closed")
    with pytest.raises(ls.ListingRefused):
        ls.listing_create(
            actor=w.users["gov"], hazard=hazard, reason="r", deadline=day(10), now=NOW
        )


def test_hazard_of_another_school_or_out_of_scope(lworld):
    w = lworld
    hazard = report(w)
    with pytest.raises(ValidationError):
        ls.listing_create(
            actor=w.users["gov"],
            hazard=hazard,
            school=w.other_school,
            reason="r",
            deadline=day(10),
            now=NOW,
        )
    with pytest.raises(Http404):
        ls.listing_create(
            actor=w.users["fargov"], hazard=hazard, reason="r", deadline=day(10), now=NOW
        )


# ------------------------------------------------------------------ automatic listing


def test_a_major_hazard_is_listed_automatically_by_the_town_office(lworld):
    w = lworld
    hazard = report(w, level=HazardLevel.MAJOR, deadline=day(7))
    listing = ListedSupervision.objects.get(hazard=hazard)
    assert listing.supervising_org == w.gov_office
    assert listing.deadline == day(7)
    assert listing.listed_by is None and listing.listed_at == NOW
    assert listing.title == hazard.title and listing.is_public
    audit = AuditEvent.objects.get(object_type="hazards.listedsupervision", action="create")
    assert audit.actor is None and audit.actor_label == "system"
    assert "listings.listed" in inbox(w.users["principal"])
    assert "listings.listed" in inbox(w.users["gov"])


def test_a_major_hazard_without_deadline_gets_thirty_days(lworld):
    hazard = report(lworld, level=HazardLevel.MAJOR)
    assert hazard.listings.get().deadline == MONDAY + dt.timedelta(days=30)


def test_a_general_hazard_is_not_listed(lworld):
    report(lworld)
    assert not ListedSupervision.objects.exists()


def test_no_governance_office_in_the_town_means_no_listing(hworld, media):
    w = hworld
    # The other town has no governance office in the root world.
    assert not Organization.objects.filter(
        kind=OrgKind.GOVERNANCE_OFFICE, town=w.other_town
    ).exists()
    hazard = report(w, school=w.far_school, actor=w.users["farpolice"], level=HazardLevel.MAJOR)
    assert hazard.pk and not ListedSupervision.objects.exists()


def test_an_inactive_governance_office_does_not_supervise(lworld):
    w = lworld
    Organization.objects.filter(pk=w.gov_office.pk).update(is_active=False)
    report(w, level=HazardLevel.MAJOR)
    assert not ListedSupervision.objects.exists()


def test_a_major_finding_from_a_self_check_is_listed_too(lworld):
    """The school's own report of a major hazard: the listing is the platform's."""
    w = lworld
    hazard = report(w, actor=w.users["principal"], level=HazardLevel.MAJOR)
    assert hazard.listings.get().supervising_org == w.gov_office
    assert hazard.listings.get().listed_by is None


# ------------------------------------------------------------------ edit


def test_the_supervising_office_completes_an_automatic_listing(lworld):
    w = lworld
    listing = report(w, level=HazardLevel.MAJOR).listings.get()
    listing = ls.listing_update(
        actor=w.users["gov"],
        listing=listing,
        reference="挂督〔2025〕2号",
        requirements="十日内清除杂物",
        deadline=day(12),
        is_public=False,
        now=NOW,
    )
    listing.refresh_from_db()
    assert (listing.reference, listing.requirements, listing.deadline, listing.is_public) == (
        "挂督〔2025〕2号",
        "十日内清除杂物",
        day(12),
        False,
    )
    assert "listings.deadline" in inbox(w.users["principal"])
    assert AuditEvent.objects.filter(
        object_type="hazards.listedsupervision", action="update"
    ).exists()


def test_edit_rights_state_and_input(lworld):
    w = lworld
    listing = list_problem(w)
    with pytest.raises(PermissionDenied):
        ls.listing_update(actor=w.users["principal"], listing=listing, requirements="x")
    with pytest.raises(PermissionDenied):
        ls.listing_update(actor=w.users["edu"], listing=listing, requirements="x")
    with pytest.raises(Http404):
        ls.listing_update(actor=w.users["fargov"], listing=listing, requirements="x")
    with pytest.raises(ValidationError):
        ls.listing_update(
            actor=w.users["gov"], listing=listing, deadline=MONDAY - dt.timedelta(days=3), now=NOW
        )
    # The county (the level above) may change it.
    ls.listing_update(actor=w.users["county"], listing=listing, requirements="县里加码", now=NOW)
    ls.listing_lift(actor=w.users["gov"], listing=listing, note="已整改", now=NOW)
    with pytest.raises(ls.ListingRefused):
        ls.listing_update(actor=w.users["gov"], listing=listing, requirements="y", now=NOW)


# ------------------------------------------------------------------ lift


def test_lift_a_problem(lworld):
    w = lworld
    listing = list_problem(w)
    lifted = ls.listing_lift(
        actor=w.users["gov"], listing=listing, note="复查合格，予以摘牌", now=at(day(3))
    )
    assert lifted.status == ListingStatus.LIFTED
    assert lifted.lifted_by == w.users["gov"] and lifted.lifted_at == at(day(3))
    assert lifted.lift_note == "复查合格，予以摘牌"
    assert "listings.lifted" in inbox(w.users["principal"])
    with pytest.raises(ls.ListingRefused):
        ls.listing_lift(actor=w.users["gov"], listing=listing, note="again", now=NOW)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("principal", PermissionDenied),
        ("edu", PermissionDenied),
        ("police", PermissionDenied),
        ("market", PermissionDenied),
        ("fargov", Http404),
        ("nobody", Http404),
    ],
)
def test_who_may_not_lift(lworld, name, error):
    w = lworld
    listing = list_problem(w)
    with pytest.raises(error):
        ls.listing_lift(actor=w.users[name], listing=listing, note="摘牌", now=NOW)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_county_may_lift_a_town_listing(lworld):
    w = lworld
    listing = list_problem(w)
    assert ls.listing_lift(actor=w.users["county"], listing=listing, note="县级摘牌").status == (
        ListingStatus.LIFTED
    )


def test_a_coordinator_of_another_office_in_the_town_may_not_lift(lworld):
    """Supervised by the county: the town's office holds LIST_SUPERVISION at the school
    but is not the supervising organization."""
    w = lworld
    listing = list_problem(w, actor=w.users["county"])
    with pytest.raises(PermissionDenied):
        ls.listing_lift(actor=w.users["gov"], listing=listing, note="摘牌", now=NOW)


def test_lift_needs_a_note(lworld):
    w = lworld
    listing = list_problem(w)
    with pytest.raises(ValidationError) as exc:
        ls.listing_lift(actor=w.users["gov"], listing=listing, note=" ", now=NOW)
    assert "note" in exc.value.message_dict
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_lift_refused_while_the_hazard_is_open_unless_anyway(lworld):
    w = lworld
    hazard = report(w, level=HazardLevel.MAJOR, deadline=day(7))
    listing = hazard.listings.get()
    with pytest.raises(ls.ListingRefused):
        ls.listing_lift(actor=w.users["gov"], listing=listing, note="摘牌", now=NOW)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE
    lifted = ls.listing_lift(
        actor=w.users["gov"],
        listing=listing,
        note="学校已停用该宿舍楼，改为另案督办",
        lift_anyway=True,
        now=NOW,
    )
    assert lifted.status == ListingStatus.LIFTED
    assert "学校已停用该宿舍楼" in lifted.lift_note
    assert lifted.lift_note != "学校已停用该宿舍楼，改为另案督办"  # says the hazard was open


def test_lift_after_the_hazard_is_closed(lworld):
    w = lworld
    hazard = report(w, level=HazardLevel.MAJOR, deadline=day(7))
    hazard = advance(w, hazard, "closed")
    assert hazard.status == HazardStatus.CLOSED
    lifted = ls.listing_lift(actor=w.users["gov"], listing=hazard.listings.get(), note="验收合格")
    assert lifted.lift_note == "验收合格"


# ------------------------------------------------------------------ who sees what


def _visible(user) -> set[int]:
    clear_scope_cache(user)
    return set(selectors.visible_listings(user).values_list("pk", flat=True))


def test_public_and_private_listings_by_viewer(lworld):
    w = lworld
    public = list_problem(w)
    private = list_problem(w, title="内部督办", reference="", is_public=False)
    other = list_problem(w, school=w.other_school, reference="")
    far = list_problem(w, actor=w.users["fargov"], school=w.far_school)
    everything = {public.pk, private.pk, other.pk}
    assert _visible(w.users["gov"]) == everything
    assert _visible(w.users["county"]) == everything | {far.pk}
    # The school sees its own listings, public or not; other viewers only the public ones.
    assert _visible(w.users["principal"]) == {public.pk, private.pk}
    assert _visible(w.users["teacher"]) == {public.pk, private.pk}
    assert _visible(w.users["principal2"]) == {other.pk}
    assert _visible(w.users["edu"]) == {public.pk, other.pk}
    assert _visible(w.users["police"]) == {public.pk, other.pk}
    assert _visible(w.users["market"]) == {public.pk, other.pk}
    assert _visible(w.users["fargov"]) == {far.pk}
    assert _visible(w.users["nobody"]) == set()


def test_countdown(lworld):
    w = lworld
    listing = list_problem(w, deadline=day(5))
    assert selectors.countdown(listing, MONDAY) == {"days": 5, "state": "left"}
    assert selectors.countdown(listing, day(5)) == {"days": 0, "state": "today"}
    assert selectors.countdown(listing, day(8)) == {"days": 3, "state": "overdue"}
    listing.status = ListingStatus.LIFTED
    assert selectors.countdown(listing, day(8))["state"] == "lifted"
