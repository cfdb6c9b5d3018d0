"""The monthly report's content and files (issue 10 item 4): it reads as its area (the same
figures whoever of the area's offices asks), its figures are the apps' selectors for the
month, the PDF carries the Chinese headings as text with an embedded CJK font, the Excel
workbook has one sheet per section, no child is named, and a requester who lost the role
gets a failed job with the reason."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import openpyxl
import pytest
from django.utils import timezone, translation

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.reports import areas, services
from huxiao.reports import monthly_selectors as sel
from huxiao.reports.models import Report, ReportStatus
from huxiao.reports.monthly_builders import LOST_ROLE, monthly_request

MARCH = dt.date(2025, 3, 1)
APRIL_2 = dt.date(2025, 4, 2)


def at(day: int, hour: int = 9, month: int = 3) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2025, month, day, hour, 0))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _alarm(school, raised_at, *, ack=None, arrive=None, **extra):
    from huxiao.alarms.choices import AlarmStatus
    from huxiao.alarms.models import Alarm

    values = {
        "school": school,
        "kind": "intrusion",
        "source": "button",
        "status": AlarmStatus.RESOLVED,
        "raised_at": raised_at,
        "cancel_window_ends_at": raised_at + dt.timedelta(seconds=10),
        "acknowledged_at": raised_at + dt.timedelta(seconds=ack) if ack is not None else None,
        "arrived_at": raised_at + dt.timedelta(seconds=arrive) if arrive is not None else None,
    }
    values.update(extra)
    return Alarm.objects.create(**values)


def _hazard(school, reported_at, *, deadline=None, closed_at=None, title="东门护栏松动"):
    from huxiao.hazards.choices import HazardStatus
    from huxiao.hazards.models import Hazard

    return Hazard.objects.create(
        school=school,
        category="physical",
        level="general",
        title=title,
        description="护栏需加固",
        status=HazardStatus.CLOSED if closed_at else HazardStatus.RECTIFYING,
        reported_at=reported_at,
        deadline=deadline,
        closed_at=closed_at,
    )


def _listing(w, school, *, public=True, listed_at=None, title="围墙缺口挂牌督办"):
    from huxiao.hazards.models import ListedSupervision

    return ListedSupervision.objects.create(
        school=school,
        title=title,
        reason="逾期未整改",
        supervising_org=w.users["gov"].memberships.get().organization,
        deadline=dt.date(2025, 3, 20),
        is_public=public,
        listed_at=listed_at or at(5),
    )


def _visit(w, school, arrived_at):
    from huxiao.patrols.models import PoliceVisit

    return PoliceVisit.objects.create(
        school=school, officer=w.users["officer"], arrived_at=arrived_at
    )


def _gate_vehicle(school, entered_at):
    from huxiao.access.models import VehicleMovement

    return VehicleMovement.objects.create(
        school=school,
        plate="辽A12345",
        purpose="supplier",
        entered_at=entered_at,
        exited_at=entered_at + dt.timedelta(minutes=20),
    )


@pytest.fixture
def march(rworld):
    """Records of March 2025 (and a few just outside it) at the town's two schools and the
    other town's school."""
    w = rworld
    # Alarms: two real ones at the kindergarten, a drill, an accidental press, one in
    # February, one at the other town's school.
    _alarm(w.school, at(3), ack=30, arrive=300)
    _alarm(w.school, at(12), ack=90)
    _alarm(w.school, at(13), ack=10, is_drill=True)
    _alarm(w.other_school, at(14), status="cancelled", is_false_alarm=False)
    _alarm(w.school, at(27, month=2), ack=20)
    _alarm(w.far_school, at(20), ack=40)
    # Hazards: found in March (one closed on time, one still open past its deadline),
    # one found in February and closed late in March, one at the far school.
    _hazard(w.school, at(4), deadline=dt.date(2025, 3, 10), closed_at=at(8))
    _hazard(w.school, at(6), deadline=dt.date(2025, 3, 15))
    _hazard(w.other_school, at(20, month=2), deadline=dt.date(2025, 3, 1), closed_at=at(18))
    _hazard(w.far_school, at(7), deadline=dt.date(2025, 3, 9))
    # Listings: one public, one not public (only its supervisors see it).
    _listing(w, w.school)
    _listing(w, w.other_school, public=False, title="内部督办事项")
    # Police visits: the kindergarten twice in the week of 10 March.
    _visit(w, w.school, at(10))
    _visit(w, w.school, at(12))
    _visit(w, w.other_school, at(11))
    _visit(w, w.school, at(1, month=4))  # April: not counted
    # Gate: three vehicles in March, one in April.
    for day in (3, 4, 31):
        _gate_vehicle(w.other_school, at(day))
    _gate_vehicle(w.other_school, at(1, month=4))
    # Health: the kindergarten's class suspended from 24 March into April.
    from huxiao.health.models import ClassSuspension

    ClassSuspension.objects.create(
        school=w.school,
        scope="class",
        school_class=w.school_class,
        starts_on=dt.date(2025, 3, 24),
        ends_on=dt.date(2025, 4, 4),
        reason="水痘聚集",
        decided_at=at(23),
    )
    # Warnings: one early warning to both of the town's schools, acknowledged by one;
    # one in April.
    from huxiao.intel.models import EarlyWarning, EarlyWarningRecipient

    for issued, schools in ((at(18), (w.school, w.other_school)), (at(2, month=4), (w.school,))):
        warning = EarlyWarning.objects.create(
            issuer=w.station,
            title="可疑人员",
            content="注意校门口徘徊人员",
            level="yellow",
            valid_from=issued,
            valid_until=issued + dt.timedelta(days=3),
            issued_at=issued,
        )
        for school in schools:
            EarlyWarningRecipient.objects.create(
                warning=warning,
                school=school,
                acknowledged_at=issued + dt.timedelta(hours=1) if school == w.school else None,
            )
    return w


def _town_area(w, user="edu"):
    return areas.report_area(w.users[user], kind=areas.TOWN, pk=w.town.pk)


# --- the period and the reader ----------------------------------------------------------


def test_period():
    march = sel.Period.of(dt.date(2025, 3, 17))
    assert (march.first_day, march.last_day, march.so_far) == (MARCH, dt.date(2025, 3, 31), False)
    assert march.whole_weeks() == [dt.date(2025, 3, d) for d in (3, 10, 17, 24)]
    assert march.week_slices()[0] == (MARCH, dt.date(2025, 3, 2))
    assert march.week_slices()[-1] == (dt.date(2025, 3, 31), dt.date(2025, 3, 31))
    so_far = sel.Period.of(MARCH, through=dt.date(2025, 3, 12))
    assert so_far.so_far and so_far.last_day == dt.date(2025, 3, 12)
    assert so_far.whole_weeks() == [dt.date(2025, 3, 3)]
    last_day = sel.Period.of(MARCH, through=dt.date(2025, 3, 31))  # asked on the last day
    assert last_day.so_far and last_day.last_day == dt.date(2025, 3, 31)
    assert not sel.Period.of(MARCH, through=APRIL_2).so_far
    assert sel.Period.of(dt.date(2024, 2, 1)).last_day == dt.date(2024, 2, 29)
    assert sel.previous_month(dt.date(2025, 1, 15)) == dt.date(2024, 12, 1)


def test_the_report_reads_as_its_area_never_the_register_or_health_records(rworld):
    w = rworld
    area = _town_area(w)
    reader = sel.AreaReader(area.school_ids)
    assert area.school_ids == {w.school.pk, w.other_school.pk}
    for action in sel.AreaReader.READ_ACTIONS:
        assert visible_school_ids(reader, action) == area.school_ids
    for action in (
        Action.VIEW_REGISTER,
        Action.VIEW_HEALTH,
        Action.VIEW_ID_NUMBER,
        Action.LIST_SUPERVISION,
        Action.HANDLE_WARNING,
    ):
        assert visible_school_ids(reader, action) == frozenset()


# --- figures ------------------------------------------------------------------------


def test_town_figures_equal_the_selectors(march):
    from huxiao.access.report_selectors import report_totals
    from huxiao.alarms.selectors import response_stats
    from huxiao.hazards.hazard_selectors import hazard_list
    from huxiao.hazards.listing_selectors import visible_listings
    from huxiao.patrols.selectors import visit_list

    w = march
    period = sel.Period.of(MARCH)
    report = sel.monthly_report(_town_area(w), period)
    edu = w.users["edu"]  # the town's office sees exactly the town's schools
    since, until = period.since, period.until

    stats = response_stats(actor=edu, since=since, until=until).total
    assert report.figure("alarms", "alarms") == stats.alarms == 2
    assert report.figure("alarms", "acknowledged") == stats.acknowledged == 2
    assert report.figure("alarms", "arrived") == 1
    assert report.figure("alarms", "accidental") == 1
    assert report.figure("alarms", "ack_median") == 60  # 30 s and 90 s
    assert report.figure("alarms", "ack_max") == 90
    assert [a.school for a in report.alarms] == ["本园", "本园"]
    assert sum(n for _label, n in report.charts["alarms"]) == 2

    hazards = hazard_list(actor=edu)
    found = hazards.filter(reported_at__gte=since, reported_at__lt=until).count()
    assert report.figure("hazards", "found") == found == 2
    closed = hazards.filter(closed_at__gte=since, closed_at__lt=until).count()
    assert report.figure("hazards", "closed") == closed == 2
    assert report.figure("hazards", "closed_on_time") == 1  # the other one closed late
    assert report.figure("hazards", "overdue_at_end") == 1
    assert report.figure("hazards", "open_at_end") == 1

    # The report shows the public board: the non-public listing is for its supervisors.
    assert report.figure("listings", "listed") == visible_listings(edu).count() == 1
    assert [row.title for row in report.listings] == ["围墙缺口挂牌督办"]
    assert report.figure("listings", "overdue_at_end") == 1

    visits = visit_list(actor=edu).filter(arrived_at__gte=since, arrived_at__lt=until)
    assert report.figure("visits", "visits") == visits.count() == 3
    # Four whole weeks × two schools; the kindergarten met the rule in one of them.
    assert report.figure("visits", "school_weeks") == 8
    assert report.figure("visits", "school_weeks_met") == 1

    totals = [
        report_totals(school=s, start=MARCH, end=period.last_day)
        for s in (w.school, w.other_school)
    ]
    assert report.figure("gate", "vehicles") == sum(t["vehicles"] for t in totals) == 3

    assert report.figure("health", "suspensions") == 1
    assert report.figure("health", "suspended_at_end") == 1  # still suspended on 31 March
    assert report.figure("warnings", "early_issued") == 1
    assert report.figure("warnings", "receipts") == 2
    assert report.figure("warnings", "acknowledged") == 1
    assert report.figure("warnings", "ack_rate") == 50

    kindergarten = next(s for s in report.schools if s.pk == w.school.pk)
    assert (kindergarten.alarms, kindergarten.hazards_found, kindergarten.visits) == (2, 2, 2)
    assert {s.pk for s in report.schools} == {w.school.pk, w.other_school.pk}
    assert report.towns == []  # a town report lists its schools, not towns


def test_county_figures_add_the_other_town_and_rank_towns(march):
    w = march
    county = areas.report_area(w.users["county"], kind=areas.COUNTY, pk=w.region.pk)
    report = sel.monthly_report(county, sel.Period.of(MARCH))
    assert report.figure("alarms", "alarms") == 3
    assert report.figure("hazards", "found") == 3
    assert {t.pk for t in report.towns} == {w.town.pk, w.other_town.pk}
    town = next(t for t in report.towns if t.pk == w.town.pk)
    far = next(t for t in report.towns if t.pk == w.other_town.pk)
    assert (town.alarms, far.alarms) == (2, 1)
    assert (town.hazards_found, far.hazards_found) == (2, 1)
    assert len(report.charts["compliance"]) == 2
    # The rates are the county overviews' (security and activities) for the same schools.
    from huxiao.drills.compliance_selectors import schools_overview
    from huxiao.security.compliance_selectors import county_overview

    security = county_overview(actor=w.users["county"]).rates
    assert report.figure("compliance", "compliance_rate") == security.compliance_rate
    assert report.figure("compliance", "schools") == security.schools == 3
    drills = schools_overview(actor=w.users["county"], on=dt.date(2025, 3, 31)).rates
    assert report.figure("drills", "compliance_rate") == drills.compliance_rate
    assert report.figure("drills", "schools") == drills.schools


def test_the_same_report_whoever_of_the_area_asks(march):
    w = march
    period = sel.Period.of(MARCH)
    by_edu = sel.monthly_report(_town_area(w, "edu"), period)
    by_gov = sel.monthly_report(_town_area(w, "gov"), period)  # gov supervises listings
    by_county = sel.monthly_report(
        areas.report_area(w.users["county"], kind=areas.TOWN, pk=w.town.pk), period
    )
    for other in (by_gov, by_county):
        assert [(s.key, [(f.key, f.value) for f in s.figures]) for s in other.sections] == [
            (s.key, [(f.key, f.value) for f in s.figures]) for s in by_edu.sections
        ]
        assert [row.title for row in other.listings] == ["围墙缺口挂牌督办"]


def test_running_month_is_reported_so_far(march):
    w = march
    period = sel.Period.of(MARCH, through=dt.date(2025, 3, 11))
    report = sel.monthly_report(_town_area(w), period)
    assert report.figure("alarms", "alarms") == 1  # 3 March; the next one came on the 12th
    assert report.figure("visits", "visits") == 2  # 10 and 11 March
    assert report.figure("visits", "weeks") == 1  # 3–9 March
    with translation.override("en"):
        assert "up to 2025-03-11" in sel.period_label(period)


def test_rankings_of_the_month(march, media):
    from huxiao.supervision import assessment_services as assess
    from huxiao.supervision.choices import RunStatus

    w = march
    office = w.users["edu"].memberships.get().organization
    scheme = assess.ensure_default_scheme(office, actor=w.users["edu"])
    now = at(2, month=4)
    run = assess.assessment_compute(
        actor=w.users["edu"], scheme=scheme, day=dt.date(2025, 3, 31), now=now
    )
    town = sel.monthly_report(_town_area(w), sel.Period.of(MARCH))
    assert town.rankings == []  # a draft is no ranking
    run = assess.assessment_publish(actor=w.users["edu"], run=run, now=now)
    assert run.status == RunStatus.PUBLISHED
    town = sel.monthly_report(_town_area(w), sel.Period.of(MARCH))
    assert [r.scheme for r in town.rankings] == [scheme.name]
    assert {row.school for row in town.rankings[0].rows} == {"本园", "同镇学校"}
    assert sel.monthly_report(_town_area(w), sel.Period.of(dt.date(2025, 2, 1))).rankings == []


# --- files --------------------------------------------------------------------------


def _pdf_text(data: bytes, tmp_path) -> tuple[str, str]:
    assert shutil.which("pdftotext") and shutil.which("pdffonts")
    path = tmp_path / "monthly.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    return text, fonts


def test_county_report_pdf_and_excel(march, media, tmp_path, django_capture_on_commit_callbacks):
    from huxiao.supervision import notice_services as ns
    from huxiao.supervision.choices import NoticeKind

    w = march
    edu_office = w.users["edu"].memberships.get().organization
    notice = ns.notice_draft(
        actor=w.users["edu"],
        kind=NoticeKind.CRITICISM,
        title="关于本园门卫值守不到位的通报批评",
        body="经督导检查，本园门卫值守不到位。",
        reference="测试教〔2025〕3号",
        subjects=[w.school.pk],
        recipients=[w.school.pk, w.other_school.pk],
        improve_by=dt.date(2025, 3, 28),
        now=at(20),
    )
    ns.notice_publish(actor=w.users["edu"], notice=notice, now=at(20, 10))
    assert edu_office.region_id == w.region.pk
    county = areas.report_area(w.users["county"], kind=areas.COUNTY, pk=w.region.pk)
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        report, created = monthly_request(
            actor=w.users["county"], area=county, month=MARCH, today=APRIL_2
        )
    report.refresh_from_db()
    assert created and report.status == ReportStatus.DONE, report.error
    assert report.town_id is None and report.month == MARCH and report.requested_by_name
    text, fonts = _pdf_text(report.pdf.read(), tmp_path)
    assert "CJK" in fonts and " yes " in fonts.split("CJK", 1)[1].splitlines()[0]
    for heading in (
        "月度报告",
        "一、本月概况",
        "二、考核排名",
        "三、通报",
        "四、挂牌督办",
        "五、应急事件与报警",
        "各乡镇达标率",
        "报警与处警",
        "隐患排查与整改",
    ):
        assert heading in text, heading
    assert "本月没有已发布的考核排名" in text
    assert "关于本园门卫值守不到位的通报批评" in text and "围墙缺口挂牌督办" in text
    assert "内部督办事项" not in text  # not public
    for child in (w.child.name, w.other_child.name, w.far_child.name):
        assert child not in text

    book = openpyxl.load_workbook(io.BytesIO(report.xlsx.read()), read_only=True)
    assert book.sheetnames == [
        "本月概况",
        "乡镇",
        "学校",
        "排名",
        "通报",
        "挂牌督办",
        "突发事件",
        "报警数",
    ]
    summary = {
        (row[0], row[1]): row[2]
        for row in book["本月概况"].iter_rows(values_only=True)
        if row and len(row) >= 3 and row[1]
    }
    assert summary[("报警与处警", "报警次数（不含演练）")] == 3
    assert summary[("隐患排查与整改", "发现隐患")] == 3
    assert summary[("校门管理", "车辆入校")] == 3
    schools = [row for row in book["学校"].iter_rows(values_only=True) if row and row[0]]
    assert {"本园", "同镇学校", "外镇学校"} <= {row[0] for row in schools}
    notices = [c for row in book["通报"].iter_rows(values_only=True) for c in row if c]
    assert "测试教〔2025〕3号" in notices
    cells = {str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row}
    assert not {w.child.name, w.other_child.name, w.far_child.name} & cells


def test_town_report_pdf_lists_the_schools(march, media, tmp_path):
    w = march
    with translation.override("zh-hans"):
        report, _created = monthly_request(
            actor=w.users["edu"], area=_town_area(w), month=MARCH, today=APRIL_2
        )
        services.report_build(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE, report.error
    text, _fonts = _pdf_text(report.pdf.read(), tmp_path)
    assert "七、各校情况" in text and "同镇学校" in text
    assert "外镇学校" not in text  # the other town's school


def test_a_requester_who_lost_the_role_gets_the_reason(rworld, media):
    w = rworld
    with translation.override("en"):
        report, _created = monthly_request(
            actor=w.users["edu"], area=_town_area(w), month=MARCH, today=APRIL_2
        )
        w.users["edu"].memberships.update(is_active=False)
        services.report_build(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    with translation.override("en"):
        assert report.error == str(LOST_ROLE)
    assert not report.pdf and Report.objects.count() == 1
