import pytest
from django.core.management import CommandError, call_command

from huxiao.accounts.models import DeviceToken
from huxiao.orgs.models import Membership
from huxiao.orgs.tests.factories import UserFactory


def test_device_token_command(world, capsys):
    call_command("device_token", school=world.school.pk, name="东门终端", kind="gate_terminal")
    token = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    assert token.startswith("hxd_")
    assert DeviceToken.objects.get(name="东门终端").school == world.school
    with pytest.raises(CommandError):
        call_command("device_token", school=world.station.pk, name="x", kind="alarm_box")


def test_grant_membership_command(world):
    user = UserFactory(username="newguard")
    call_command("grant_membership", "newguard", str(world.school.pk), "guard")
    assert Membership.objects.filter(user=user, organization=world.school, role="guard").exists()
    with pytest.raises(CommandError):
        call_command("grant_membership", "newguard", str(world.station.pk), "guard")
