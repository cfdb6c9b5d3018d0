"""Who sees the leading group, its meetings and action items (role × scope): the town's
non-school organizations read, the group's members and a meeting's attendees see what
concerns them, a school sees the items its school answers for, another town nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from huxiao.core.scoping import clear_scope_cache
from huxiao.supervision import meeting_selectors as sel
from huxiao.supervision.tests.meeting_fixtures import (  # noqa: F401
    add_member,
    group_fixture,
    held_fixture,
    make_group,
    mworld_fixture,
)

pytestmark = pytest.mark.django_db


# name → (sees the group, sees the meeting, action items seen: "all" / "school" / "none",
#         keeps the group, may open the group pages)
MATRIX = {
    "gov": (True, True, "all", True, True),
    "gov2": (True, True, "all", True, True),
    "police": (True, True, "all", False, True),  # member, town police station
    "officer": (True, True, "all", False, True),  # town police station (reader)
    "edu": (True, True, "all", False, True),
    "liaison": (True, True, "all", False, True),  # township government
    "healthy": (True, True, "all", False, True),  # health centre
    "county": (True, True, "all", False, True),  # county office reads its towns
    "principal": (False, True, "all", False, False),  # invited to the meeting
    "security": (False, False, "school", False, False),  # the school's item only
    "teacher": (False, False, "school", False, False),
    "principal2": (False, False, "none", False, False),
    "farpolice": (False, False, "none", False, True),  # another town's station
    "fargov": (False, False, "none", False, True),
    "nobody": (False, False, "none", False, False),
}


@pytest.mark.parametrize("name", list(MATRIX))
def test_role_and_scope(mworld, held, name):
    w = mworld
    user = w.users[name]
    group_seen, meeting_seen, actions_seen, keeps, area = MATRIX[name]
    group = held.group
    assert sel.visible_groups(user).filter(pk=group.pk).exists() is group_seen
    assert sel.visible_meetings(user).filter(pk=held.pk).exists() is meeting_seen
    seen = set(sel.visible_actions(user).values_list("pk", flat=True))
    expected = {
        "all": {held.station_item.pk, held.school_item.pk},
        "school": {held.school_item.pk},
        "none": set(),
    }[actions_seen]
    assert seen == expected
    assert sel.may_keep(user, group) is keeps
    if area:
        sel.require_area(user)
    else:
        with pytest.raises(PermissionDenied):
            sel.require_area(user)


def test_a_school_member_of_the_group_sees_the_group(mworld, group):
    w = mworld
    user = w.users["principal2"]
    assert not sel.visible_groups(user).filter(pk=group.pk).exists()
    add_member(w, group, "principal2", w.other_school)
    clear_scope_cache(user)
    assert sel.visible_groups(user).filter(pk=group.pk).exists()
    sel.require_area(user)


def test_county_group_is_the_countys(mworld):
    w = mworld
    county = make_group(w, actor=w.users["county"], owner=w.county_office, name="县领导小组")
    # Town offices do not read the county group; the county office keeps it.
    assert not sel.visible_groups(w.users["gov"]).filter(pk=county.pk).exists()
    assert sel.visible_groups(w.users["county"]).filter(pk=county.pk).exists()
    assert sel.may_keep(w.users["county"], county)
    assert not sel.may_keep(w.users["gov"], county)


def test_keep_places(mworld):
    w = mworld
    assert [o.pk for o in sel.keep_places(w.users["gov"])] == [w.gov_office.pk]
    assert [o.pk for o in sel.keep_places(w.users["county"])] == [w.county_office.pk]
    assert sel.keep_places(w.users["edu"]) == []


def test_action_list_needs_a_membership(mworld, held):
    w = mworld
    with pytest.raises(PermissionDenied):
        sel.require_any_membership(w.users["nobody"])
    sel.require_any_membership(w.users["teacher"])
    # Anonymous: nothing at all.
    assert not sel.visible_actions(AnonymousUser()).exists()
    assert not sel.visible_groups(None).exists()


def test_mine_filter(mworld, held):
    w = mworld
    mine = sel.action_list(actor=w.users["principal"], filters=sel.ActionFilters(mine=True))
    assert list(mine.values_list("pk", flat=True)) == [held.school_item.pk]
    police = sel.action_list(actor=w.users["police"], filters=sel.ActionFilters(mine=True))
    assert list(police.values_list("pk", flat=True)) == [held.station_item.pk]
