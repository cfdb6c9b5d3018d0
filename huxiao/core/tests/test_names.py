from django.contrib.auth.models import User
from django.template import Context, Template

from huxiao.core.names import person_name


def test_a_chinese_name_is_family_name_first_without_a_space():
    assert person_name(User(username="police", first_name="志刚", last_name="赵")) == "赵志刚"


def test_other_names_keep_the_given_name_first():
    assert person_name(User(username="x", first_name="Ada", last_name="Lovelace")) == (
        "Ada Lovelace"
    )


def test_no_name_falls_back_to_the_username_and_none_to_nothing():
    assert person_name(User(username="guard")) == "guard"
    assert person_name(None) == ""


def test_the_filter_is_a_builtin_of_every_template():
    user = User(username="p", first_name="国强", last_name="张")
    assert Template("{{ u|person_name }}").render(Context({"u": user})) == "张国强"


def test_actor_label_names_people_devices_and_the_platform():
    from huxiao.core.names import actor_label
    from huxiao.core.scoping import DevicePrincipal

    assert actor_label(User(username="p", first_name="志刚", last_name="赵")) == "赵志刚"
    device = DevicePrincipal(device_id=1, school_id=1, name="东门报警箱", actions=frozenset())
    assert actor_label(device) == "device:东门报警箱"
    assert actor_label(None) == "system"
    assert len(actor_label(User(username="x" * 200))) == 150
