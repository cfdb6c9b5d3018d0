"""An unannounced inspection at the demo kindergarten, its finding and the rectification, in
real Chromium, with the demo data of `make run` (township, inspections and hazards).

1. `edu` (education supervisor of 大杨树镇中心学校), on a phone held upright (390×844,
   touch), plans an unannounced central-school inspection of 大杨树实验幼儿园 with the shipped
   monthly self-check. Until it starts the kindergarten does not see it.
2. `edu` starts it and answers every item on the phone: one fails (the wall and gate) with a
   photo taken through the file input; every photo-required item gets a photo except one,
   so the first sign-off is refused naming that item; after its photo the inspection is
   signed off with its score. The failed item becomes a hazard with a deadline.
3. `principal` (the kindergarten's principal, desktop) finds the hazard, assigns it to
   herself with a plan, starts the rectification and submits it with an evidence photo.
4. `edu` verifies and closes it; both see it closed with its whole timeline.
5. The ranking changes: `edu` opens this month's draft ranking of the demo's default
   scheme (computed when the demo was loaded, before step 1), reads the kindergarten's
   score and rank, computes it again and reads them again: the signed-off inspection and
   the hazard closed on time raise its score.
"""

from __future__ import annotations

import datetime as dt
import struct
import threading
import zlib

import pytest
from django.db import connections
from django.utils import timezone

from huxiao.demo.township import DEMO_PASSWORD, load_demo_township
from huxiao.hazards.choices import HazardStatus, InspectionStatus
from huxiao.hazards.demo import KINDERGARTEN, load_demo_hazards
from huxiao.hazards.models import ChecklistTemplate, Hazard, Inspection, TemplateItem
from huxiao.supervision.assessment_demo import load_demo_assessment
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TEMPLATE_CODE = "monthly-self-check"
FAILED_ITEM = "围墙、大门完好，无破损缺口"
# A photo-required item answered without its photo at first: sign-off names it.
FORGOTTEN_PHOTO_ITEM = "门卫、保安按排班在岗，持证上岗"
NOT_APPLICABLE_ITEM = "宿舍夜间巡查、请假登记记录完整"  # the kindergarten has no boarders


def _png(rgb=(200, 60, 60), size=32) -> bytes:
    """A small valid PNG of one colour, as a phone camera would hand over a file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = (b"\x00" + bytes(rgb) * size) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _photo(name: str, rgb=(200, 60, 60)) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": _png(rgb)}


@pytest.fixture
def demo(settings, browser, tmp_path):
    """The demo as `make run` loads it (the parts this journey needs), in a thread of its
    own (the services publish after commit through async_to_sync, which cannot run in this
    thread while Playwright's event loop does)."""
    settings.DEMO_MODE = True
    settings.MEDIA_ROOT = str(tmp_path / "media")
    failures = []

    def run():
        try:
            load_demo_township()
            load_demo_hazards()
            load_demo_assessment()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    loader = threading.Thread(target=run, name="demo-loader")
    loader.start()
    loader.join()
    if failures:
        raise failures[0]


@pytest.fixture
def open_page(browser, live_server):
    """open_page(username, viewport, touch) → a logged-in page of its own browser context."""
    contexts = []

    def open_(username, viewport=PHONE, touch=True):
        context = browser.new_context(
            locale="zh-CN", viewport=viewport, is_mobile=touch, has_touch=touch
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.base_url = live_server.url
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        log_in(page, username, DEMO_PASSWORD)
        return page

    yield open_
    for context in contexts:
        context.close()


def _open_move(page, name: str):
    """The form of one move on the hazard page (each sits in a <details>)."""
    details = page.get_by_test_id(f"move-{name}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def _answer_all(page, photo_required: dict[str, bool]) -> int:
    """Answer every item from the current item page on, "save and next" each time; return
    how many were answered. Failed: FAILED_ITEM, with a photo; not applicable: the
    dormitory; the rest meet the requirement, with a photo where one is required (except
    FORGOTTEN_PHOTO_ITEM)."""
    answered = 0
    while "/items/" in page.url:
        text = page.get_by_test_id("item-text").inner_text().strip()
        form = page.get_by_test_id("answer-form")
        if text == FAILED_ITEM:
            # With a note: "生成隐患" carries it into the hazard's description.
            form.get_by_test_id("result-fail").check()
            form.locator("textarea[name=note]").fill("北侧围墙有缺口\n约两米宽")
            page.get_by_test_id("answer-photo").set_input_files(_photo("wall.png"))
        elif text == NOT_APPLICABLE_ITEM:
            form.get_by_test_id("result-na").check()
        else:
            form.get_by_test_id("result-pass").check()
            if photo_required[text] and text != FORGOTTEN_PHOTO_ITEM:
                page.get_by_test_id("answer-photo").set_input_files(_photo("ok.png", (80, 160, 90)))
        before = page.url
        page.get_by_test_id("answer-save").tap()
        page.wait_for_url(lambda url, before=before: url != before)
        answered += 1
        assert answered <= len(photo_required), "the checklist went round in circles"
    return answered


def test_unannounced_inspection_finding_rectified_and_closed(demo, open_page):
    template = ChecklistTemplate.objects.get(code=TEMPLATE_CODE, is_current=True)
    photo_required = {
        item.text: item.photo_required
        for item in TemplateItem.objects.filter(section__template=template)
    }
    assert photo_required[FAILED_ITEM] and photo_required[FORGOTTEN_PHOTO_ITEM]
    today = timezone.localdate()
    deadline = today + dt.timedelta(days=7)

    # 1. edu plans an unannounced inspection on the phone.
    edu = open_page("edu")
    edu.goto(f"{edu.base_url}/hazards/inspections/")
    edu.get_by_test_id("plan-inspection").tap()
    plan = edu.get_by_test_id("plan-form")
    plan.locator("#id_school").select_option(label=KINDERGARTEN)
    plan.locator("#id_kind").select_option(label="中心校检查")
    plan.locator("#id_template").select_option(label=f"{template.name} v{template.version}")
    plan.locator("#id_planned_on").fill(today.isoformat())
    plan.get_by_label("暗访（检查开始前学校看不到）").check()
    plan.get_by_role("button", name="保存").tap()
    edu.get_by_text("检查已安排。").wait_for()
    meta = edu.get_by_test_id("inspection-meta")
    assert "暗访" in meta.inner_text() and "已计划" in meta.inner_text()
    inspection = Inspection.objects.get(school__name=KINDERGARTEN, kind="central_school")
    assert inspection.unannounced and inspection.status == InspectionStatus.PLANNED

    # The kindergarten does not see it before it starts (the demo month's do show).
    principal = open_page("principal", viewport=DESKTOP, touch=False)
    principal.goto(f"{principal.base_url}/hazards/inspections/")
    rows = principal.get_by_test_id("inspection-row")
    rows.first.wait_for()
    assert "中心校检查" not in principal.get_by_test_id("inspection-list").inner_text()

    # 2. edu starts and answers every item on the phone.
    edu.get_by_test_id("inspection-start").tap()
    edu.get_by_test_id("item-position").wait_for()
    assert edu.get_by_test_id("item-position").inner_text().startswith(f"1 / {len(photo_required)}")
    assert _answer_all(edu, photo_required) == len(photo_required)
    edu.get_by_text("所有项目均已填写，请核对后签发。").wait_for()

    # The first sign-off is refused: one photo-required item has no photo yet.
    edu.locator("#id_summary").fill("暗访发现东侧围墙破损，已当场拍照并登记隐患。")
    edu.get_by_test_id("sign-off").tap()
    error = edu.get_by_test_id("inspection-error")
    error.wait_for()
    assert "须拍照" in error.inner_text() and FORGOTTEN_PHOTO_ITEM in error.inner_text()
    edu.get_by_role("link", name=FORGOTTEN_PHOTO_ITEM).tap()
    edu.get_by_test_id("answer-photo").set_input_files(_photo("guard.png", (80, 160, 90)))
    edu.get_by_test_id("answer-save").tap()
    edu.get_by_test_id("sign-off-form").wait_for()
    edu.locator("#id_summary").fill("暗访发现东侧围墙破损，已当场拍照并登记隐患。")
    edu.get_by_test_id("sign-off").tap()
    edu.get_by_text("检查已签发。").wait_for()
    assert edu.get_by_test_id("inspection-status").inner_text() == "已签字确认"
    # 19 applicable items of 5 points; the wall failed.
    assert edu.get_by_test_id("inspection-score").inner_text() == "90.0 / 95.0"

    # The failed item becomes a hazard with a deadline, in one step.
    failed = edu.get_by_test_id("inspection-item").filter(has_text=FAILED_ITEM)
    failed.get_by_test_id("finding-hazard-open").tap()
    form = failed.get_by_test_id("finding-hazard-form")
    form.get_by_label("整改期限").fill(deadline.isoformat())
    form.get_by_test_id("finding-hazard").tap()
    edu.get_by_text(f"已登记隐患：{FAILED_ITEM}").wait_for()
    screenshot(edu, "hazard-journey-1-inspection-signed-off")
    hazard = Hazard.objects.get(inspection=inspection)
    assert hazard.deadline == deadline and hazard.status == HazardStatus.REPORTED
    assert hazard.photos.filter(kind="finding").count() == 1

    # 3. The principal finds it, assigns it to herself, starts and submits with evidence.
    principal.goto(f"{principal.base_url}/hazards/inspections/")
    assert "中心校检查" in principal.get_by_test_id("inspection-list").inner_text()
    principal.goto(f"{principal.base_url}/hazards/hazards/")
    principal.get_by_test_id("hazard-row").filter(has_text=FAILED_ITEM).get_by_role("link").click()
    assert principal.get_by_test_id("hazard-status").inner_text() == "已上报"
    assign = _open_move(principal, "assign")
    assign.locator("#id_assign-owner").select_option(label="刘芳")
    assign.locator("#id_assign-deadline").fill(deadline.isoformat())
    assign.locator("#id_assign-plan").fill("联系施工队修补东侧围墙缺口，修好前设置围挡。")
    assign.get_by_test_id("do-assign").click()
    principal.get_by_text("已保存。").wait_for()
    assert principal.get_by_test_id("hazard-status").inner_text() == "已指派"
    _open_move(principal, "start").get_by_test_id("do-start").click()
    principal.get_by_text("已保存。").wait_for()
    assert principal.get_by_test_id("hazard-status").inner_text() == "整改中"
    submit = _open_move(principal, "submit")
    submit.locator("#id_submit-note").fill("东侧围墙缺口已用砖砌补并抹灰，围挡已撤除。")
    submit.get_by_test_id("evidence-input").set_input_files(_photo("fixed.png", (60, 110, 180)))
    submit.get_by_test_id("do-submit").click()
    principal.get_by_text("已保存。").wait_for()
    assert principal.get_by_test_id("hazard-status").inner_text() == "已提交验收"
    principal.get_by_test_id("evidence-photos").wait_for()
    # She may not verify her own school's rectification.
    assert principal.get_by_test_id("move-verify").count() == 0

    # 4. edu verifies and closes it on the phone.
    edu.goto(f"{edu.base_url}/hazards/hazards/{hazard.pk}/")
    verify = _open_move(edu, "verify")
    verify.locator("#id_verify-note").fill("现场复查，围墙已修复。")
    verify.get_by_test_id("do-verify").tap()
    edu.get_by_text("已保存。").wait_for()
    assert edu.get_by_test_id("hazard-status").inner_text() == "已验收销号"
    timeline = edu.get_by_test_id("hazard-timeline").inner_text()
    for step in (
        "已上报",
        "已指派",
        "整改中",
        "已提交验收",
        "已验收销号",
        "现场复查，围墙已修复。",
    ):
        assert step in timeline, (step, timeline)
    screenshot(edu, "hazard-journey-2-closed")

    principal.reload()
    assert principal.get_by_test_id("hazard-status").inner_text() == "已验收销号"
    assert "已验收销号" in principal.get_by_test_id("hazard-timeline").inner_text()
    hazard.refresh_from_db()
    assert hazard.status == HazardStatus.CLOSED and hazard.verified_by.username == "edu"

    # 5. The ranking changes: this month's draft, computed before step 1, then again.
    edu.goto(f"{edu.base_url}/supervision/assessment/")
    edu.get_by_test_id("scheme-row").first.get_by_role("link").tap()
    edu.get_by_test_id("run-row").first.get_by_role("link").tap()  # newest period first
    assert edu.get_by_test_id("run-period").inner_text() == today.strftime("%Y-%m")
    before = _kindergarten_on_ranking(edu)
    ranking_url = edu.url
    edu.get_by_test_id("recompute").tap()
    edu.wait_for_url(lambda url: url != ranking_url)
    after = _kindergarten_on_ranking(edu)
    screenshot(edu, "hazard-journey-3-ranking")
    assert after != before, (before, after)
    # Its first outside inspection of the month (90 of 95) and a second hazard closed on
    # time: the score rises, and it does not fall in rank.
    assert after[0] > before[0] and after[1] <= before[1], (before, after)
    assert edu.errors == [] and principal.errors == []


def _kindergarten_on_ranking(page) -> tuple[float, int]:
    """(score, rank) of the kindergarten as the ranking page shows them."""
    row = page.get_by_test_id("ranking-row").filter(has_text=KINDERGARTEN)
    return (
        float(row.get_by_test_id("score").inner_text()),
        int(row.get_by_test_id("rank").inner_text()),
    )
