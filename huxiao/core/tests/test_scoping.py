import pytest

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.people.models import Child, Guardian


@pytest.mark.parametrize(
    "username, expected",
    [
        ("principal", {"school"}),
        ("guard", {"school"}),
        ("principal2", {"other_school"}),
        ("police", {"school", "other_school"}),
        ("postofficer", {"school"}),
        ("farpolice", {"far_school"}),
        ("edu", {"school", "other_school"}),
        ("gov", {"school", "other_school"}),
        ("county", {"school", "other_school", "far_school"}),
        ("nobody", set()),
    ],
)
def test_visible_schools_follow_the_rules(world, username, expected):
    user = world.users[username]
    ids = visible_school_ids(user, Action.VIEW)
    assert ids == {getattr(world, name).pk for name in expected}


def test_role_decides_actions(world):
    assert visible_school_ids(world.users["principal"], Action.EDIT_ROSTER) == {world.school.pk}
    assert visible_school_ids(world.users["guard"], Action.EDIT_ROSTER) == frozenset()
    assert visible_school_ids(world.users["guard"], Action.REGISTER_VISITOR) == {world.school.pk}
    assert visible_school_ids(world.users["police"], Action.EDIT_ROSTER) == frozenset()


def test_nested_scope_paths(world):
    principal = world.users["principal"]
    assert list(Child.objects.visible_to(principal)) == [world.child]
    assert list(Guardian.objects.visible_to(principal)) == [world.guardian]


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not Child.objects.visible_to(AnonymousUser()).exists()
    assert not Child.objects.visible_to(None).exists()
