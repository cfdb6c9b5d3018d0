"""acting_user: the one place that decides whose "by" foreign key an action gets."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from huxiao.core.names import acting_user
from huxiao.core.scoping import DevicePrincipal
from huxiao.orgs.tests.factories import UserFactory


@pytest.mark.django_db
def test_only_a_signed_in_user_is_kept():
    user = UserFactory()
    device = DevicePrincipal(device_id=1, school_id=1, name="gate", actions=frozenset())
    assert acting_user(user) is user
    assert acting_user(device) is None
    assert acting_user(AnonymousUser()) is None
    assert acting_user(None) is None
