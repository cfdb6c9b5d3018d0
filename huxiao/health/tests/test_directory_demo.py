"""The directory demo (huxiao.health.directory_demo): demo mode only, nothing without the
township, named contacts for the four parties at every school of 大杨树镇, the
kindergarten's through the services, idempotent. Loading the township takes a few seconds,
so the loaded demo is checked in one test."""

from __future__ import annotations

import pytest

from huxiao.audit.models import AuditEvent
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.health.choices import Party
from huxiao.health.directory import four_party_directory
from huxiao.health.directory_demo import KINDERGARTEN, SCHOOL_NAMES, load_demo_directory
from huxiao.health.models import HealthContact
from huxiao.orgs.models import Organization
from huxiao.people.choices import StaffRole
from huxiao.people.models import Staff

pytestmark = pytest.mark.django_db


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_directory()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_directory() == {"schools": 0, "contacts": 0}


def test_the_demo_names_the_four_parties_at_every_school(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    result = load_demo_directory()
    schools = list(Organization.objects.filter(name__in=SCHOOL_NAMES))
    assert result["schools"] == len(schools) == 6
    assert "柳河镇中心小学" not in SCHOOL_NAMES  # another town
    for school in schools:
        contacts = HealthContact.objects.filter(school=school)
        assert set(contacts.values_list("party", flat=True)) == set(Party.values), school
        # One first-to-call per party, and every number a valid one.
        for party in Party.values:
            assert contacts.filter(party=party, is_primary=True).count() == 1, (school, party)
        entries = four_party_directory(school)
        assert not any(e.is_switchboard for e in entries)
        principal = Staff.objects.filter(school=school, role=StaffRole.PRINCIPAL).first()
        assert contacts.filter(party=Party.SCHOOL, name=principal.name, is_primary=True).exists()
    kg = Organization.objects.get(name=KINDERGARTEN)
    centre = HealthContact.objects.get(school=kg, party=Party.HEALTH_CENTRE, is_primary=True)
    assert (centre.name, centre.title, centre.phone) == (
        "郑晓梅",
        "公共卫生科科长",
        "0311-85213120",
    )
    assert centre.organization.name == "大杨树卫生院"
    assert centre.updated_by.username == "health"
    assert HealthContact.objects.filter(school=kg, party=Party.HEALTH_CENTRE).count() == 2
    edu = HealthContact.objects.get(school=kg, party=Party.CENTRAL_SCHOOL)
    assert (edu.name, edu.title, edu.phone) == ("周文明", "安全督导专干", "0311-85213201")
    government = HealthContact.objects.get(school=kg, party=Party.GOVERNMENT)
    assert government.title == "分管副镇长" and government.organization.name == "大杨树镇人民政府"
    own = HealthContact.objects.filter(school=kg, party=Party.SCHOOL)
    assert own.get(is_primary=True).name == "刘芳" and own.get(is_primary=True).title == "园长"
    assert own.filter(title="保健医").exists()
    assert own.get(is_primary=True).updated_by.username == "principal"
    # The kindergarten's entries have their real audit rows; the others the import's.
    audits = AuditEvent.objects.filter(object_type="health.healthcontact", action="create")
    assert audits.count() == result["contacts"]
    assert audits.filter(school=kg, actor__username="principal").exists()
    assert audits.filter(school=kg, actor__username="health").count() == 2
    assert (
        audits.exclude(school=kg).filter(actor__isnull=True).count()
        == audits.exclude(school=kg).count()
    )
    before = HealthContact.objects.count()
    assert load_demo_directory() == {"schools": 0, "contacts": 0}
    assert HealthContact.objects.count() == before
    # A school whose directory someone changed during the demo is left alone.
    HealthContact.objects.filter(school=kg, party=Party.GOVERNMENT).delete()
    assert load_demo_directory() == {"schools": 0, "contacts": 0}
