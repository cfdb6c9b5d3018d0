"""The gate report as .xlsx: role × scope, one sheet per section with the expected rows,
masked IDs and no photo or register data, an audit row per export, bounded queries."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.access.models import Interception, Visit
from huxiao.access.tests.conftest import BLOCKED_ID, CLEAR_ID, MONDAY, REGISTER_ID
from huxiao.access.tests.test_report_pages import (
    EVERYONE,
    expected,
    report_url,
    seed,
    seed_more,
)
from huxiao.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

SHEETS = [
    "概况",
    "访客",
    "车辆",
    "通行证核验",
    "违禁品拦截",
    "按事由",
    "按接待人",
    "被拒绝的接送",
    "未被接走",
    "代接放行",
]


def _export(client, world, **params):
    return client.get(report_url(world, "access:report_export", **params))


def _book(response):
    return openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)


def _rows(book, title) -> list[tuple]:
    return [tuple(row) for row in book[title].iter_rows(values_only=True)]


@pytest.mark.parametrize("who", EVERYONE)
def test_export_matrix(gate, client, who):
    seed(gate)
    if who != "anonymous":
        client.force_login(gate.users[who])
    r = _export(client, gate)
    assert r.status_code == expected(who)
    exports = AuditEvent.objects.filter(action="export", object_type="access.gatereport")
    if r.status_code == 200:
        assert r["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert r["Cache-Control"] == "no-store"
        assert (
            f"huxiao-gate-report-{gate.school.pk}-20250303-20250303.xlsx"
            in (r["Content-Disposition"])
        )
        assert exports.count() == 1
    else:
        # Denied: nothing was exported, so nothing is in the trail as an export.
        assert exports.count() == 0


def test_export_of_another_school_is_404(gate, client):
    client.force_login(gate.users["principal2"])
    assert _export(client, gate).status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()


def test_export_has_one_sheet_per_section_with_the_rows(gate, client):
    seed(gate)
    client.force_login(gate.users["security"])
    r = _export(client, gate)
    book = _book(r)
    assert book.sheetnames == SHEETS

    overview = dict(_rows(book, "概况")[1:])
    assert overview["学校"] == gate.school.name
    assert overview["来访人次"] == 3 and overview["暂缓放行的访客"] == 2

    visits = _rows(book, "访客")
    assert visits[0][:8] == (
        "入校时间",
        "离校时间",
        "姓名",
        "身份证号",
        "事由",
        "事由说明",
        "接待人",
        "核查结果",
    )
    by_name = {row[2]: row for row in visits[1:]}
    assert set(by_name) == {"访客甲", "张三丰", "禁入者"}
    first = by_name["访客甲"]
    assert first[0].strftime("%Y-%m-%d %H:%M") == "2025-03-03 08:10"
    assert first[1].strftime("%H:%M") == "09:05"
    assert first[3] == Visit.objects.get(name="访客甲").id_number_masked != CLEAR_ID
    assert first[6] == "李老师" and first[7] == "通过"
    assert by_name["张三丰"][7] == "暂缓放行" and by_name["禁入者"][7] == "暂缓放行"

    assert [row[2] for row in _rows(book, "车辆")[1:]] == ["京A12345"]
    scans = _rows(book, "通行证核验")[1:]
    assert [(row[2], row[3], row[4]) for row in scans] == [
        ("通过", None, "保安 老刘"),
        ("拒绝", "已过期", None),
    ]
    assert [row[2] for row in _rows(book, "违禁品拦截")[1:]] == ["弹簧刀"]
    purposes = {row[0]: row[1:] for row in _rows(book, "按事由")[1:]}
    assert sum(count for count, _held in purposes.values()) == 3
    hosts = dict(_rows(book, "按接待人")[1:])
    assert hosts == {"李老师": 2, "无接待人": 1}
    refusals = _rows(book, "被拒绝的接送")[1:]
    assert [(row[1], row[2], row[3]) for row in refusals] == [
        ("无权接送该幼儿", "王小明", "小一班")
    ]
    not_collected = _rows(book, "未被接走")[1:]
    assert [(row[1], row[5]) for row in not_collected] == [("王小明", "李阿姨")]
    delegates = _rows(book, "代接放行")[1:]
    assert [(row[1], row[3], row[4]) for row in delegates] == [("王小明", "李阿姨", "邻居")]

    event = AuditEvent.objects.get(action="export", object_type="access.gatereport")
    assert event.school_id == gate.school.pk and event.actor == gate.users["security"]
    assert event.changes["from"] == event.changes["to"] == "2025-03-03"
    assert event.changes["rows"]["visits"] == 3 and event.changes["rows"]["refusals"] == 1


def test_export_carries_no_photo_no_full_id_no_register_data(gate, client):
    seed(gate)
    client.force_login(gate.users["principal"])
    r = _export(client, gate)
    cells = " ".join(
        str(value)
        for title in _book(r).sheetnames
        for row in _rows(_book(r), title)
        for value in row
        if value is not None
    )
    for secret in (CLEAR_ID, REGISTER_ID, BLOCKED_ID, "曾在校门口扬言报复", "法院禁止令"):
        assert secret not in cells, secret
    assert Interception.objects.get().photo_encrypted not in cells
    assert b"PHOTO-CIPHERTEXT" not in r.content


def test_formula_text_stays_text(gate, client):
    Visit.objects.create(
        school=gate.school,
        name="=HYPERLINK(1)",
        purpose="other",
        status="left",
        screening="clear",
        checked_in_at=seed_time(),
    )
    client.force_login(gate.users["principal"])
    book = _book(_export(client, gate))
    assert _rows(book, "访客")[1][2] == "'=HYPERLINK(1)"


def seed_time():
    from huxiao.access.tests.conftest import at

    return at(MONDAY, "10:00")


def test_export_queries_do_not_grow_with_rows(gate, client):
    client.force_login(gate.users["principal"])
    seed(gate)
    with CaptureQueriesContext(connection) as few:
        assert _export(client, gate).status_code == 200
    seed_more(gate, 40)
    with CaptureQueriesContext(connection) as many:
        r = _export(client, gate)
    assert r.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(_rows(_book(r), "访客")) == 1 + 3 + 40
