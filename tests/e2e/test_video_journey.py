"""Video patrol in real Chromium (ADR 0020).

The station commander `police` opens the camera registry, logs a video patrol with one
observation marked for follow-up on the kindergarten's gate camera, and finds it in the list
and on its page. The kindergarten's principal keeps the camera registry and sees the
school's camera and networking rate, but video patrols are police records: the list and the
patrol's page are not for schools. The principal of a school of another station sees neither
the kindergarten's camera nor the patrol, and the other station's commander gets "not found".
"""

from __future__ import annotations

import pytest

from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.patrols.models import VideoObservation, VideoPatrol
from huxiao.patrols.video_services import camera_register
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey-pw-6"
# GB/T 28181: 8-digit centre code (示范县 130123 + 10), industry 00, type 132, network 0.
_PREFIX = "13012310" + "00" + "132" + "0"


@pytest.fixture
def cameras(world):
    far_principal = UserFactory(username="farprincipal")
    MembershipFactory(user=far_principal, organization=world.far_school, role=Role.PRINCIPAL)
    world.users["farprincipal"] = far_principal
    for name in ("police", "principal", "farprincipal", "farpolice"):
        world.users[name].set_password(PASSWORD)
        if name == "police":
            world.users[name].first_name, world.users[name].last_name = "志刚", "赵"
        world.users[name].save()
    police = world.users["police"]
    return {
        "gate": camera_register(
            actor=police,
            school=world.school,
            device_id=_PREFIX + "900101",
            name="园门口",
            kind="gate",
            location="幸福路8号正门",
            is_online=True,
            is_networked=True,
        ),
        "yard": camera_register(
            actor=police,
            school=world.school,
            device_id=_PREFIX + "900102",
            name="操场东",
            kind="playground",
            is_online=True,
            is_networked=False,
        ),
        "far": camera_register(
            actor=world.users["farpolice"],
            school=world.far_school,
            device_id=_PREFIX + "900201",
            name="外镇校门口",
            kind="gate",
            is_online=True,
            is_networked=True,
        ),
    }


@pytest.fixture
def open_page(browser, live_server):
    contexts = []

    def open_():
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield live_server.url, open_
    for context in contexts:
        context.close()


def _log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def _refused(page, url, heading):
    """The page answers with its refusal (403 "not allowed" or 404 "not found")."""
    response = page.goto(url)
    assert page.get_by_role("heading", name=heading).is_visible()
    return response.status


def test_police_log_a_video_patrol_the_school_keeps_its_cameras_but_not_the_patrol(
    world, cameras, open_page
):
    base, open_ = open_page
    gate, yard, far = cameras["gate"], cameras["yard"], cameras["far"]

    # The commander: the registry of the station's schools, then the patrol form.
    police = open_()
    _log_in(police, base, "police")
    police.get_by_role("link", name="视频巡查").first.click()
    police.wait_for_url(f"{base}/patrols/video/")
    assert police.get_by_test_id(f"camera-{gate.pk}").is_visible()
    assert police.get_by_test_id(f"camera-{far.pk}").count() == 0
    # Two cameras in service, one networked: 50 %.
    assert (
        police.get_by_test_id(f"rate-school-{world.school.pk}").locator("td").last.inner_text()
        == "50%"
    )
    police.get_by_test_id("video-patrol-new").click()
    police.wait_for_url(f"{base}/patrols/video/patrols/new/")
    assert police.get_by_role("heading", name="登记视频巡查").is_visible()
    assert police.get_by_test_id(f"camera-row-{gate.pk}").is_visible()
    assert police.get_by_test_id(f"camera-row-{far.pk}").count() == 0

    # A follow-up without saying what is refused in place; nothing is written.
    row = police.get_by_test_id(f"camera-row-{gate.pk}")
    row.locator(f"input[name=cam_{gate.pk}_looked]").check()
    row.locator(f"input[name=cam_{gate.pk}_seen]").fill("放学时段园门口有一名男子徘徊约十分钟。")
    row.locator(f"input[name=cam_{gate.pk}_follow]").check()
    police.get_by_role("button", name="保存").click()
    police.get_by_text("请说明需要跟进的事项。").wait_for()
    assert not VideoPatrol.objects.exists()

    row = police.get_by_test_id(f"camera-row-{gate.pk}")
    assert row.locator(f"input[name=cam_{gate.pk}_looked]").is_checked()  # kept
    row.locator(f"input[name=cam_{gate.pk}_note]").fill("通知护学岗民警放学时重点关注园门口。")
    police.get_by_label("巡逻发现").fill("园门口一处可疑情况，其余正常。")
    screenshot(police, "video-patrol-form")
    police.get_by_role("button", name="保存").click()
    police.get_by_text("视频巡查已登记。").wait_for()
    patrol = VideoPatrol.objects.get()
    police.wait_for_url(f"{base}/patrols/video/patrols/{patrol.pk}/")
    assert police.get_by_test_id("video-patrol-title").inner_text() == "视频巡查"
    observations = police.get_by_test_id("observation-table").inner_text()
    assert "园门口" in observations and gate.device_id in observations
    assert "男子徘徊" in observations and "需跟进" in observations
    assert "重点关注园门口" in observations
    assert "操场东" not in observations  # not looked at
    assert "本园" in police.content() and "赵志刚" in police.content()
    screenshot(police, "video-patrol-detail")

    # The list, and the list of patrols with something to follow up.
    police.get_by_role("link", name="全部视频巡查").click()
    police.wait_for_url(f"{base}/patrols/video/patrols/")
    table = police.get_by_test_id("video-patrol-table").inner_text()
    assert "本园" in table and "赵志刚" in table and "园门口" in table
    police.get_by_test_id("follow-up-filter").click()
    police.wait_for_url(f"{base}/patrols/video/patrols/?follow_up=1")
    assert "本园" in police.get_by_test_id("video-patrol-table").inner_text()

    observation = VideoObservation.objects.get()
    assert (observation.patrol, observation.camera, observation.school) == (
        patrol,
        gate,
        world.school,
    )
    assert observation.needs_follow_up
    assert list(patrol.schools.all()) == [world.school]
    assert patrol.officer == world.users["police"]

    # The kindergarten's principal keeps the registry: the school's cameras and rate.
    principal = open_()
    _log_in(principal, base, "principal")
    principal.get_by_role("link", name="视频巡查").first.click()
    principal.wait_for_url(f"{base}/patrols/video/")
    assert principal.get_by_role("heading", name="摄像头与联网率").is_visible()
    assert principal.get_by_test_id(f"camera-{gate.pk}").is_visible()
    assert principal.get_by_test_id(f"camera-{yard.pk}").is_visible()
    assert principal.get_by_test_id(f"camera-{far.pk}").count() == 0
    assert principal.get_by_test_id("camera-new").is_visible()
    # …but who looked at the cameras, and what they saw, is the police's record.
    assert principal.get_by_test_id("video-patrol-new").count() == 0
    assert "男子徘徊" not in principal.content()
    assert _refused(principal, f"{base}/patrols/video/patrols/", "无权访问") == 403
    assert _refused(principal, f"{base}/patrols/video/patrols/{patrol.pk}/", "无权访问") == 403
    assert _refused(principal, f"{base}/patrols/video/patrols/new/", "无权访问") == 403
    screenshot(principal, "video-patrol-school-refused")

    # A school of another station: its own camera only.
    far_principal = open_()
    _log_in(far_principal, base, "farprincipal")
    far_principal.goto(f"{base}/patrols/video/")
    assert far_principal.get_by_test_id(f"camera-{far.pk}").is_visible()
    assert far_principal.get_by_test_id(f"camera-{gate.pk}").count() == 0
    assert far_principal.get_by_test_id(f"rate-school-{world.school.pk}").count() == 0
    assert "本园" not in far_principal.get_by_test_id("camera-table").inner_text()
    assert _refused(far_principal, f"{base}/patrols/video/patrols/{patrol.pk}/", "无权访问") == 403

    # The other station's police: the patrol does not exist for them.
    far_police = open_()
    _log_in(far_police, base, "farpolice")
    assert _refused(far_police, f"{base}/patrols/video/patrols/{patrol.pk}/", "页面不存在") == 404
    far_police.goto(f"{base}/patrols/video/patrols/")
    assert "本园" not in far_police.get_by_test_id("video-patrol-table").inner_text()

    for page in (police, principal, far_principal, far_police):
        assert page.errors == []
