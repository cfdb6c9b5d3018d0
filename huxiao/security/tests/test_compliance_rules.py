"""The rule kinds against hand-worked schools (issue 7 item 4, Tests): pure functions of
pre-fetched facts, no database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from huxiao.security import rules as R
from huxiao.security.rules import EquipmentRequirement, SchoolFacts, StaffFact

TODAY = dt.date(2026, 3, 11)


def facts(**kw) -> SchoolFacts:
    kw.setdefault("school_id", 1)
    kw.setdefault("region_id", 1)
    kw.setdefault("today", TODAY)
    return SchoolFacts(**kw)


def guards(n, **kw) -> list[StaffFact]:
    base = {
        "role": "guard",
        "background_check": "passed",
        "has_profile": True,
        "certificate_number": "京12345678",
        "certificate_expires_on": dt.date(2030, 1, 1),
        "filed_with_police": True,
    }
    base.update(kw)
    return [StaffFact(name=f"保安{i}", **base) for i in range(n)]


def run(key, f, **params):
    return R.RULES[key].evaluate(f, {**R.RULES[key].default_params, **params})


def texts(items, lang="en"):
    with translation.override(lang):
        return [R.render_message(m) for m in items]


# ------------------------------------------------------------------ guards_staffing


STAFFING = R.RULES["guards_staffing"].default_params


@pytest.mark.parametrize(
    ("enrolment", "boarding", "need"),
    [
        (1, False, 1),
        (90, False, 1),
        (99, False, 1),
        (100, False, 1),  # 1 + 2 × 0/900: interpolation starts at the threshold
        (101, False, 2),  # rounded up
        (550, False, 2),  # exactly 1 + 2 × 450/900 = 2: no float creep to 3
        (551, False, 3),
        (999, False, 3),
        (1000, False, 3),
        (1499, False, 3),
        (1500, False, 4),
        (1600, False, 4),
        (2000, False, 5),
        (90, True, 2),  # boarding minimum
        (1600, True, 4),
    ],
)
def test_guards_required(enrolment, boarding, need):
    assert R.guards_required(enrolment, boarding, STAFFING) == need


def test_a_90_pupil_kindergarten_with_one_guard_passes():
    out = run("guards_staffing", facts(enrolment=90, staff=guards(1)))
    assert out["verdict"] == "pass"
    assert (out["required"], out["actual"]) == (1, 1)
    assert out["missing"] == []
    assert texts(out["evidence"])[0] == "1 full-time guard at present"


def test_a_1600_pupil_boarding_school_with_three_guards_fails_and_needs_four():
    out = run("guards_staffing", facts(enrolment=1600, is_boarding=True, staff=guards(3)))
    assert out["verdict"] == "fail"
    assert (out["required"], out["actual"]) == (4, 3)
    assert texts(out["missing"]) == ["1 more full-time guard needed"]
    assert "1600 pupils: at least 4 full-time guards required" in texts(out["evidence"])
    # Stored as keys and parameters, never as rendered text.
    assert out["missing"] == [{"key": "guards_need", "params": {"n": 1}}]


def test_part_time_guards_do_not_count_and_a_guard_without_a_record_does():
    staff = guards(1, full_time=False) + guards(1, has_profile=False, full_time=True)
    out = run("guards_staffing", facts(enrolment=90, staff=staff))
    assert out["verdict"] == "pass" and out["actual"] == 1
    assert "1 part-time guard (not counted)" in texts(out["evidence"])
    out = run("guards_staffing", facts(enrolment=90, staff=guards(2, full_time=False)))
    assert out["verdict"] == "fail" and out["actual"] == 0


def test_unknown_enrolment_fails_only_below_the_smallest_minimum():
    assert run("guards_staffing", facts(enrolment=0))["verdict"] == "fail"
    out = run("guards_staffing", facts(enrolment=0, staff=guards(1)))
    assert out["verdict"] == "no_data"
    out = run("guards_staffing", facts(enrolment=0, is_boarding=True, staff=guards(1)))
    assert out["verdict"] == "fail" and out["required"] == 2


def test_staffing_parameters_are_the_countys():
    out = run(
        "guards_staffing",
        facts(enrolment=1600, staff=guards(3)),
        base_pupils=1200,
        step_pupils=200,
        step_add=1,
    )
    assert out["required"] == 5 and out["verdict"] == "fail"


# ------------------------------------------------------------------ personnel


def test_security_body():
    officer = [StaffFact(name="安保主任", role="security_officer", background_check="passed")]
    assert run("security_body", facts(staff=officer))["verdict"] == "pass"
    out = run("security_body", facts(staff=guards(2)))
    assert out["verdict"] == "fail"
    assert texts(out["missing"]) == ["Appoint 1 more security officer"]


def test_guards_certified_names_each_guards_problems():
    ok = guards(1)
    expired = [
        StaffFact(
            name="张三",
            role="guard",
            background_check="pending",
            certificate_number="京12345678",
            certificate_expires_on=dt.date(2026, 3, 10),
            filed_with_police=False,
        )
    ]
    no_record = [StaffFact(name="李四", role="guard", background_check="passed")]
    out = run("guards_certified", facts(staff=ok + expired + no_record))
    assert out["verdict"] == "fail" and (out["required"], out["actual"]) == (3, 1)
    assert texts(out["missing"]) == [
        "张三: guard certificate expired on 2026-03-10",
        "张三: background check not passed",
        "张三: not filed with the police",
        "李四: no guard certificate",
        "李四: not filed with the police",
    ]
    # Expiring today is still valid.
    today = guards(1, certificate_expires_on=TODAY)
    assert run("guards_certified", facts(staff=today))["verdict"] == "pass"
    assert run("guards_certified", facts())["verdict"] == "na"


def test_dormitory_managers_only_for_boarding_schools():
    assert run("dormitory_managers", facts())["verdict"] == "na"
    out = run("dormitory_managers", facts(is_boarding=True))
    assert out["verdict"] == "fail"
    dorm = [StaffFact(name="宿管", role="dormitory_manager", background_check="passed")]
    assert run("dormitory_managers", facts(is_boarding=True, staff=dorm))["verdict"] == "pass"


# ------------------------------------------------------------------ equipment

ITEMS = [
    EquipmentRequirement(1, "头盔", 1, True),
    EquipmentRequirement(2, "盾牌", 2, False),
    EquipmentRequirement(3, "钢叉", 2, False),
]


def test_equipment_complete():
    stock = {1: (1, "good"), 2: (2, "worn"), 3: (2, "good")}
    assert (
        run("equipment_complete", facts(required_equipment=ITEMS, stock=stock))["verdict"] == "pass"
    )
    stock = {1: (1, "broken"), 2: (1, "good")}
    out = run("equipment_complete", facts(required_equipment=ITEMS, stock=stock))
    assert out["verdict"] == "fail" and (out["required"], out["actual"]) == (3, 0)
    assert texts(out["missing"]) == ["头盔: broken", "盾牌: 1 of 2", "钢叉: 0 of 2"]
    assert run("equipment_complete", facts())["verdict"] == "na"


def test_per_guard_items_count_guards_when_the_county_says_so():
    stock = {1: (1, "good"), 2: (2, "good"), 3: (2, "good")}
    f = facts(required_equipment=ITEMS, stock=stock, staff=guards(3))
    assert run("equipment_complete", f)["verdict"] == "pass"
    out = run("equipment_complete", f, per_guard=1)
    assert texts(out["missing"]) == ["头盔: 1 of 3"]


# ------------------------------------------------------------------ defences

GOOD = {
    "video_retention_days": 30,
    "monitoring_room": True,
    "monitoring_room_24h": True,
    "perimeter": "wall",
    "bollards": 0,
    "vehicle_barrier": True,
    "closed_management": True,
    "gatehouse_24h": True,
}


@pytest.mark.parametrize(
    "key",
    [
        "gatehouse_24h",
        "closed_management",
        "physical_barriers",
        "video_retention",
        "monitoring_room",
    ],
)
def test_profile_rules_without_a_profile_have_no_data(key):
    out = run(key, facts())
    assert out["verdict"] == "no_data"
    assert texts(out["evidence"]) == ["Technical and physical defences not recorded yet"]
    assert run(key, facts(defence=dict(GOOD)))["verdict"] == "pass"


def test_flags():
    out = run("closed_management", facts(defence={**GOOD, "closed_management": False}))
    assert out["verdict"] == "fail"
    assert texts(out["missing"]) == ["Put the campus under closed management"]
    assert (
        run("gatehouse_24h", facts(defence={**GOOD, "gatehouse_24h": False}))["verdict"] == "fail"
    )


def test_physical_barriers():
    partial = {**GOOD, "perimeter": "partial", "vehicle_barrier": False, "bollards": 0}
    out = run("physical_barriers", facts(defence=partial))
    assert out["verdict"] == "fail" and out["actual"] == 0
    assert texts(out["missing"]) == [
        "Close the perimeter with a wall or fence",
        "Install anti-ram bollards (at least 1) or a vehicle barrier",
    ]
    fence = {**GOOD, "perimeter": "fence", "vehicle_barrier": False, "bollards": 2}
    assert run("physical_barriers", facts(defence=fence))["verdict"] == "pass"
    assert run("physical_barriers", facts(defence=fence), min_bollards=3)["verdict"] == "fail"


def test_alarm_networked():
    assert run("alarm_networked", facts(alarm_boxes_active=1))["verdict"] == "pass"
    networked = facts(systems={"one_click_alarm": (1, 1)})
    assert run("alarm_networked", networked)["verdict"] == "pass"
    offline = facts(systems={"one_click_alarm": (2, 0), "intrusion_alarm": (1, 1)})
    out = run("alarm_networked", offline)
    assert out["verdict"] == "fail"
    assert texts(out["evidence"]) == ["2 one-click alarms not networked to the police"]
    assert texts(run("alarm_networked", facts())["evidence"]) == [
        "No one-click alarm networked to the police"
    ]


def test_video_networked():
    assert run("video_networked", facts(cameras_active=4, cameras_networked=4))["verdict"] == "pass"
    out = run("video_networked", facts(cameras_active=4, cameras_networked=3))
    assert out["verdict"] == "fail" and out["actual"] == 75
    assert texts(out["missing"]) == ["Network 1 more camera to the police (100% required)"]
    assert (
        run("video_networked", facts(cameras_active=4, cameras_networked=3), min_share=75)[
            "verdict"
        ]
        == "pass"
    )
    out = run("video_networked", facts())
    assert out["verdict"] == "fail"
    assert texts(out["missing"]) == [
        "Install 1 more camera at key areas",
        "Network 1 more camera to the police (100% required)",
    ]
    # 199 of 200 is 99 %, not a rounded 100 %.
    out = run("video_networked", facts(cameras_active=200, cameras_networked=199))
    assert out["verdict"] == "fail" and out["actual"] == 99


def test_video_retention():
    out = run("video_retention", facts(defence={**GOOD, "video_retention_days": 15}))
    assert out["verdict"] == "fail" and (out["required"], out["actual"]) == (30, 15)
    assert texts(out["missing"]) == ["Keep video at least 30 days"]
    unknown = {**GOOD, "video_retention_days": None}
    assert run("video_retention", facts(defence=unknown))["verdict"] == "no_data"


def test_monitoring_room():
    no_room = {**GOOD, "monitoring_room": False, "monitoring_room_24h": False}
    assert run("monitoring_room", facts(defence=no_room))["verdict"] == "fail"
    part = {**GOOD, "monitoring_room_24h": False}
    out = run("monitoring_room", facts(defence=part))
    assert out["verdict"] == "fail"
    assert texts(out["missing"]) == ["Staff the monitoring room 24 hours a day"]
    assert run("monitoring_room", facts(defence=part), require_24h=0)["verdict"] == "pass"


# ------------------------------------------------------------------ patrol rounds


def _days(n=7):
    return [TODAY - dt.timedelta(days=k) for k in range(n, 0, -1)]


def test_patrol_rounds_every_day():
    days = _days()
    counts = {d: (5, 0) for d in days}
    f = facts(rounds=counts, round_days=days, night_days=days)
    assert run("patrol_rounds", f)["verdict"] == "pass"
    counts[days[-1]] = (3, 4)  # night rounds do not make up for day rounds
    out = run("patrol_rounds", f)
    assert out["verdict"] == "fail" and out["actual"] == 3
    assert texts(out["missing"]) == ["2026-03-10: 3 rounds (5 required)"]
    assert texts(out["evidence"]) == ["6 of the last 7 days with at least 5 rounds"]


def test_boarding_schools_need_night_rounds():
    days = _days()
    counts = {d: (5, 1) for d in days}
    counts[days[0]] = (5, 0)
    f = facts(is_boarding=True, rounds=counts, round_days=days, night_days=days)
    out = run("patrol_rounds", f)
    assert out["verdict"] == "fail"
    assert texts(out["missing"]) == ["Night of 2026-03-04: 0 night rounds (1 required)"]
    assert run("patrol_rounds", f, night_rounds=0)["verdict"] == "pass"


def test_no_rounds_at_all_fails():
    days = _days()
    out = run("patrol_rounds", facts(round_days=days, night_days=days))
    assert out["verdict"] == "fail" and len(out["missing"]) == 7


# ------------------------------------------------------------------ messages and params


def test_messages_render_in_the_readers_language():
    item = R.message("guards_need", n=1)
    assert texts([item], "en") == ["1 more full-time guard needed"]
    assert R.render_message({"key": "gone_since", "params": {}}) == "gone_since"
    assert R.render_message({"key": "guards_need", "params": {"x": 1}}) == "guards_need"
    assert R.render_message("nonsense") == ""


def test_every_message_renders_with_the_parameters_its_rule_gives():
    """Every rule's outcome on a few schools renders without falling back to its key."""
    days = _days()
    samples = [
        facts(),
        facts(enrolment=1600, is_boarding=True, staff=guards(3), defence=dict(GOOD)),
        facts(
            enrolment=90,
            staff=guards(1, background_check="failed", filed_with_police=False),
            defence={**GOOD, "perimeter": "none", "bollards": 2, "monitoring_room_24h": False},
            required_equipment=ITEMS,
            stock={1: (0, "broken")},
            cameras_active=3,
            cameras_networked=1,
            systems={"one_click_alarm": (1, 0)},
            alarm_boxes_active=0,
            round_days=days,
            night_days=days,
            is_boarding=True,
        ),
    ]
    for f in samples:
        for key, kind in R.RULES.items():
            out = kind.evaluate(f, kind.default_params)
            assert out["verdict"] in {"pass", "fail", "na", "no_data"}
            for lang in ("en", "zh-hans"):
                for item in out["evidence"] + out["missing"]:
                    assert item["key"] in R.MESSAGES, (key, item)
                    assert R.render_message(item) != item["key"] or not item["key"]
                    assert texts([item], lang)[0] != item["key"], (key, item)


def test_clean_params():
    assert R.clean_params("video_retention", {"min_days": 60}) == {"min_days": 60}
    assert R.clean_params("video_retention", {"min_days": 60.0}) == {"min_days": 60}
    with pytest.raises(ValidationError) as exc:
        R.clean_params(
            "guards_staffing",
            {"small_min": -1, "base_min": "3", "step_add": 1.5, "nope": 1, "boarding_min": True},
        )
    errors = exc.value.message_dict
    assert set(errors) == {"small_min", "base_min", "step_add", "nope", "boarding_min"}
    with pytest.raises(ValidationError) as exc:
        R.clean_params("guards_staffing", {"small_threshold": 500, "base_pupils": 400})
    assert set(exc.value.message_dict) == {"base_pupils"}
    with pytest.raises(ValidationError):
        R.clean_params("video_retention", {"min_days": float("nan")})
    with pytest.raises(ValidationError):
        R.clean_params("video_retention", {"min_days": float("inf")})
    with pytest.raises(ValidationError):
        R.clean_params("video_retention", [1, 2])


def test_effective_params_fall_back_to_defaults_for_stale_values():
    assert R.effective_params("video_retention", {"min_days": 9999}) == {"min_days": 30}
    assert R.effective_params("video_retention", {"min_days": 45, "old": 1}) == {"min_days": 45}
    bad = {"small_threshold": 5000, "base_pupils": 100}
    assert R.effective_params("guards_staffing", bad) == STAFFING
    assert R.effective_params("video_retention", "junk") == {"min_days": 30}


def test_every_rule_has_a_label_description_and_sane_params():
    assert len(R.RULES) == 13
    for key, kind in R.RULES.items():
        assert kind.key == key and str(kind.label) and str(kind.description)
        assert kind.area in {"personnel", "equipment", "defence", "rounds"}
        for spec in kind.params.values():
            assert spec.minimum <= spec.default <= spec.maximum
        R.clean_params(key, kind.default_params)
    assert R.PATROL_ROUNDS_DEFAULTS.items() <= R.RULES["patrol_rounds"].default_params.items()
