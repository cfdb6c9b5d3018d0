"""A principal's journey in real Chromium: log in, see the classes, import a roster, find the
import in the audit trail."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from huxiao.audit.models import AuditEvent
from huxiao.core.idcard import make_id_number
from huxiao.people.models import Child
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _roster(path, class_name: str, rows: int) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["班级", "姓名", "性别", "身份证号"])
    for n in range(rows):
        born = dt.date(2021, 1 + n % 12, 1 + n)
        sheet.append(
            [
                class_name,
                f"导入孩子{n}",
                "男" if n % 2 else "女",
                make_id_number("130123", born, 500 + n),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())


def test_principal_logs_in_sees_classes_imports_a_roster_and_finds_it_in_the_audit_trail(
    world, page, tmp_path
):
    world.users["principal"].set_password("journey-pw-1")
    world.users["principal"].save()
    base = page.base_url

    # Log in (the interface is Chinese by default).
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill("principal")
    page.get_by_label("密码").fill("journey-pw-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_test_id("home-title").inner_text() == world.school.name
    screenshot(page, "principal-home")

    # The kindergarten's classes: its own class, never another school's.
    page.get_by_test_id("card-classes").click()
    page.wait_for_load_state()
    body = page.content()
    assert world.school_class.name in body
    assert world.other_class.name not in body

    # Import a roster of three children into the class.
    roster = tmp_path / "花名册.xlsx"
    _roster(roster, world.school_class.name, 3)
    page.goto(f"{base}/imports/")
    page.locator("select[name=kind]").select_option("children")
    page.locator("input[name=file]").set_input_files(str(roster))
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    confirm = page.get_by_test_id("import-confirm")
    confirm.wait_for(state="visible")
    assert "导入孩子0" in page.content()  # the preview shows the rows
    assert Child.objects.filter(name__startswith="导入孩子").count() == 0  # nothing yet
    confirm.click()
    page.get_by_test_id("import-status").filter(has_text="完成").wait_for()
    assert Child.objects.filter(school=world.school, name__startswith="导入孩子").count() == 3

    # The class page lists them.
    page.goto(f"{base}/people/classes/{world.school_class.pk}/")
    assert "导入孩子2" in page.get_by_test_id("children-table").inner_text()

    # The audit trail records the import.
    page.goto(f"{base}/audit/?object_type=imports.importjob")
    trail = page.get_by_test_id("audit-table").inner_text()
    assert "导入" in trail and "principal" in trail
    assert AuditEvent.objects.filter(action="import", actor=world.users["principal"]).exists()
    screenshot(page, "principal-audit")
