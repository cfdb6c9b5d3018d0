"""The compliance rule kinds and each county's rule set (issue 7 item 4; ADR 0028).

CONTRACT (other areas call these; the compliance area implements them):
- `RULES`: rule key → rule kind (label, parameters with defaults and bounds, evaluation).
- `rule_params(region_id, key) -> dict`: the parameters of a rule in force for a county (the
  defaults overlaid with the county's values); `{}` when the rule is switched off.
  The patrol-rounds rule (key "patrol_rounds") has at least
  {"rounds_per_day": 5, "night_rounds": 1} (night rounds only for boarding schools).
- `ensure_rules(region) -> list[ComplianceRule]`: the county's rule set, created with the
  shipped defaults the first time (and any rule kind added since appended, switched on).

A rule kind is code; a county's rule is data (`ComplianceRule`: switched on or off, its
parameters within the kind's bounds). Each kind evaluates one school from facts fetched
beforehand for all the schools at once (`compliance.py` fetches them with grouped queries):
a rule never queries the database.

Verdicts are stored as data, not as rendered text: evidence and what is missing are lists of
{"key": message key, "params": {...}}; `render_message` turns one into the reader's language
at display time (English msgids in `MESSAGES`, translated like every other string).

Shipped defaults (GB/T 29315-2022, the 《中小学幼儿园安全防范工作规范（试行）》 and the
national "三个100%" goals — full-time guards, closed management, one-click alarm and video
networked to the police, each at 100 %):
- security_body: a security body with at least 1 security officer (§2 4);
- guards_staffing: full-time guards by enrolment: under 100 pupils at least 1; at 1,000
  pupils 3, plus 1 per further full 500; in between interpolated linearly and rounded up;
  boarding schools at least 2 (§1 二(一)一, §2 4). Part-time guards do not count; a guard
  without a guard record counts as full-time (the record's default);
- guards_certified: every active guard has a valid guard certificate, passed the background
  check and is filed with the police (§1 二(一)一, §2 4);
- dormitory_managers: boarding schools have a dormitory manager (§1 二(一)一, §2 5);
- equipment_complete: every required item of the county's list at its minimum, none broken;
- gatehouse_24h, closed_management, physical_barriers (wall or fence; bollards or a vehicle
  barrier), alarm_networked, video_networked, video_retention (≥ 30 days), monitoring_room
  (staffed 24 hours, §2 6), patrol_rounds (each of the last 7 full days ≥ 5 rounds; boarding
  schools each night ≥ 1 night round, §2 5).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from huxiao.security.choices import Verdict
from huxiao.supervision.indicators import ParamSpec

PATROL_ROUNDS_DEFAULTS = {"rounds_per_day": 5, "night_rounds": 1}

# ------------------------------------------------------------------ messages

# Message key → English msgid (translated when shown). Keys are stored in verdicts, so a
# key once shipped is never renamed; its wording may change freely.
MESSAGES = {
    "no_profile": _("Technical and physical defences not recorded yet"),
    # security_body
    "officers_have": ngettext_lazy(
        "%(n)s security officer on the staff", "%(n)s security officers on the staff", "n"
    ),
    "officers_need": ngettext_lazy(
        "Appoint %(n)s more security officer", "Appoint %(n)s more security officers", "n"
    ),
    # guards_staffing
    "guards_full_time": ngettext_lazy(
        "%(n)s full-time guard at present", "%(n)s full-time guards at present", "n"
    ),
    "guards_part_time": ngettext_lazy(
        "%(n)s part-time guard (not counted)", "%(n)s part-time guards (not counted)", "n"
    ),
    "guards_required": ngettext_lazy(
        "%(enrolment)s pupils: at least %(n)s full-time guard required",
        "%(enrolment)s pupils: at least %(n)s full-time guards required",
        "n",
    ),
    "guards_required_boarding": ngettext_lazy(
        "Boarding school: at least %(n)s full-time guard required",
        "Boarding school: at least %(n)s full-time guards required",
        "n",
    ),
    "guards_need": ngettext_lazy(
        "%(n)s more full-time guard needed", "%(n)s more full-time guards needed", "n"
    ),
    "enrolment_unknown": _(
        "Enrolment not recorded: the number of guards required cannot be worked out"
    ),
    # guards_certified
    "no_guards": _("No guards to check"),
    "guards_certified": _(
        "%(ok)s of %(n)s guards certified, background-checked and filed with the police"
    ),
    "guard_no_certificate": _("%(name)s: no guard certificate"),
    "guard_certificate_expired": _("%(name)s: guard certificate expired on %(date)s"),
    "guard_background": _("%(name)s: background check not passed"),
    "guard_not_filed": _("%(name)s: not filed with the police"),
    # dormitory_managers
    "not_boarding": _("Not a boarding school"),
    "dorm_have": ngettext_lazy(
        "%(n)s dormitory manager at present", "%(n)s dormitory managers at present", "n"
    ),
    "dorm_need": ngettext_lazy(
        "%(n)s more dormitory manager needed", "%(n)s more dormitory managers needed", "n"
    ),
    # equipment_complete
    "equipment_no_list": _("The county's equipment list has no required item"),
    "equipment_complete": _("%(ok)s of %(n)s required items complete"),
    "equipment_short": _("%(item)s: %(have)s of %(min)s"),
    "equipment_broken": _("%(item)s: broken"),
    # gatehouse_24h
    "gatehouse_yes": _("Gatehouse staffed 24 hours"),
    "gatehouse_no": _("Gatehouse not staffed around the clock"),
    "gatehouse_need": _("Staff the gatehouse 24 hours a day"),
    # closed_management
    "closed_yes": _("Closed management in place"),
    "closed_no": _("No closed management"),
    "closed_need": _("Put the campus under closed management"),
    # physical_barriers
    "perimeter_wall": _("Perimeter wall"),
    "perimeter_fence": _("Perimeter fence"),
    "perimeter_partial": _("Perimeter has gaps"),
    "perimeter_none": _("No perimeter wall or fence"),
    "perimeter_need": _("Close the perimeter with a wall or fence"),
    "bollards": ngettext_lazy("%(n)s anti-ram bollard", "%(n)s anti-ram bollards", "n"),
    "vehicle_barrier": _("Vehicle barrier at the gate"),
    "barrier_none": _("No anti-ram bollards or vehicle barrier"),
    "barrier_need": _("Install anti-ram bollards (at least %(n)s) or a vehicle barrier"),
    # alarm_networked
    "alarm_boxes": ngettext_lazy(
        "%(n)s HuXiao alarm box in service", "%(n)s HuXiao alarm boxes in service", "n"
    ),
    "alarm_systems_networked": ngettext_lazy(
        "%(n)s one-click alarm networked to the police",
        "%(n)s one-click alarms networked to the police",
        "n",
    ),
    "alarm_systems_offline": ngettext_lazy(
        "%(n)s one-click alarm not networked to the police",
        "%(n)s one-click alarms not networked to the police",
        "n",
    ),
    "alarm_none": _("No one-click alarm networked to the police"),
    "alarm_need": _("Install a one-click alarm networked to the police"),
    # video_networked
    "cameras": _("%(n)s cameras in service, %(networked)s networked to the police (%(share)s%%)"),
    "cameras_none": _("No camera in service"),
    "cameras_need": ngettext_lazy(
        "Install %(n)s more camera at key areas", "Install %(n)s more cameras at key areas", "n"
    ),
    "cameras_network": ngettext_lazy(
        "Network %(n)s more camera to the police (%(share)s%% required)",
        "Network %(n)s more cameras to the police (%(share)s%% required)",
        "n",
    ),
    # video_retention
    "retention": ngettext_lazy("Video kept %(n)s day", "Video kept %(n)s days", "n"),
    "retention_unknown": _("Video retention not recorded"),
    "retention_need": ngettext_lazy(
        "Keep video at least %(n)s day", "Keep video at least %(n)s days", "n"
    ),
    # monitoring_room
    "room_24h": _("Monitoring room staffed 24 hours"),
    "room_not_24h": _("Monitoring room, not staffed around the clock"),
    "room_none": _("No monitoring room"),
    "room_need": _("Set up a monitoring room"),
    "room_need_24h": _("Staff the monitoring room 24 hours a day"),
    # patrol_rounds
    "rounds_days": _("%(ok)s of the last %(n)s days with at least %(min)s rounds"),
    "rounds_nights": _("%(ok)s of the last %(n)s nights with at least %(min)s night rounds"),
    "rounds_day_short": _("%(date)s: %(done)s rounds (%(min)s required)"),
    "rounds_night_short": _("Night of %(date)s: %(done)s night rounds (%(min)s required)"),
}


def message(key: str, **params) -> dict:
    """One stored message: its key and parameters (numbers, dates as ISO text, names)."""
    return {"key": key, "params": params}


def render_message(item) -> str:
    """A stored message in the active language; an unknown key or bad parameters give the
    key itself rather than an error (verdicts outlive code changes)."""
    if not isinstance(item, dict):
        return ""
    key = item.get("key", "")
    text = MESSAGES.get(key)
    params = item.get("params") or {}
    if text is None:
        return str(key)
    try:
        return str(text % params) if params else str(text)
    except (KeyError, TypeError, ValueError):
        return str(key)


# ------------------------------------------------------------------ facts and results


@dataclass
class StaffFact:
    """An active guard, security officer or dormitory manager with their guard record."""

    name: str
    role: str
    background_check: str
    has_profile: bool = False
    full_time: bool = True
    certificate_number: str = ""
    certificate_expires_on: dt.date | None = None
    filed_with_police: bool = False


@dataclass(frozen=True)
class EquipmentRequirement:
    type_id: int
    name: str
    min_quantity: int
    per_guard: bool


@dataclass
class SchoolFacts:
    """What the rules need to know about one school, fetched for all schools at once."""

    school_id: int
    region_id: int
    enrolment: int = 0
    is_boarding: bool = False
    today: dt.date | None = None
    staff: list[StaffFact] = field(default_factory=list)
    required_equipment: list[EquipmentRequirement] = field(default_factory=list)
    # type id → (quantity, condition)
    stock: dict[int, tuple[int, str]] = field(default_factory=dict)
    defence: dict | None = None
    cameras_active: int = 0
    cameras_networked: int = 0
    alarm_boxes_active: int = 0
    # kind → (active, active and networked)
    systems: dict[str, tuple[int, int]] = field(default_factory=dict)
    # duty day → (day rounds, night rounds); the full days looked at, and the nights that
    # are over (a night belongs to the day it began and lasts until noon the next day)
    rounds: dict[dt.date, tuple[int, int]] = field(default_factory=dict)
    round_days: list[dt.date] = field(default_factory=list)
    night_days: list[dt.date] = field(default_factory=list)

    def staff_of(self, role: str) -> list[StaffFact]:
        return [s for s in self.staff if s.role == role]


def result(
    verdict: str, *, evidence=(), missing=(), required=None, actual=None
) -> dict[str, object]:
    return {
        "verdict": str(verdict),
        "evidence": list(evidence),
        "missing": list(missing),
        "required": required,
        "actual": actual,
    }


Evaluate = Callable[[SchoolFacts, dict], dict]


@dataclass(frozen=True)
class RuleKind:
    key: str
    label: object
    description: object
    evaluate: Evaluate
    params: dict[str, ParamSpec] = field(default_factory=dict)
    # Which page holds the facts: personnel, equipment, defence, rounds.
    area: str = ""
    # Cross-parameter checks: (params) → {param: message} of what is wrong.
    check: Callable[[dict], dict] | None = None

    @property
    def default_params(self) -> dict:
        return {name: spec.default for name, spec in self.params.items()}


RULES: dict[str, RuleKind] = {}


def _rule(key, *, label, description, params=None, area="", check=None):
    def decorate(evaluate: Evaluate) -> Evaluate:
        RULES[key] = RuleKind(
            key=key,
            label=label,
            description=description,
            evaluate=evaluate,
            params=dict(params or {}),
            area=area,
            check=check,
        )
        return evaluate

    return decorate


# ------------------------------------------------------------------ staffing

# Staff roles (people.choices.StaffRole values), kept as text so the rules stay pure.
GUARD, OFFICER, DORM = "guard", "security_officer", "dormitory_manager"
PASSED = "passed"


@_rule(
    "security_body",
    label=_("Security body"),
    description=_(
        "The school has a security body with at least the given number of security "
        "officers, reported to the county police (§2 4; 《中小学幼儿园安全防范工作规范》)."
    ),
    params={"min_officers": ParamSpec(1, 1, 20, _("Security officers at least"))},
    area="personnel",
)
def security_body(facts: SchoolFacts, params: dict) -> dict:
    need = int(params["min_officers"])
    have = len(facts.staff_of(OFFICER))
    evidence = [message("officers_have", n=have)]
    if have >= need:
        return result(Verdict.PASS, evidence=evidence, required=need, actual=have)
    return result(
        Verdict.FAIL,
        evidence=evidence,
        missing=[message("officers_need", n=need - have)],
        required=need,
        actual=have,
    )


def guards_required(enrolment: int, boarding: bool, params: dict) -> int:
    """Full-time guards a school needs: the small-school minimum under `small_threshold`
    pupils; `base_min` at `base_pupils`, plus `step_add` per full further `step_pupils`;
    linear in between, rounded up; boarding schools at least `boarding_min`."""
    small_threshold = int(params["small_threshold"])
    small_min = int(params["small_min"])
    base_pupils = int(params["base_pupils"])
    base_min = int(params["base_min"])
    if enrolment < small_threshold:
        need = small_min
    elif enrolment >= base_pupils:
        steps = (enrolment - base_pupils) // int(params["step_pupils"])
        need = base_min + steps * int(params["step_add"])
    else:
        # Exact fractions: 1 + 2 × 450 / 900 must be 2, not 2.0000000001 rounded up to 3.
        share = Fraction(enrolment - small_threshold, base_pupils - small_threshold)
        need = math.ceil(small_min + (base_min - small_min) * share)
    if boarding:
        need = max(need, int(params["boarding_min"]))
    return need


def _check_staffing(params: dict) -> dict:
    errors = {}
    if params["base_pupils"] <= params["small_threshold"]:
        errors["base_pupils"] = _("Must be larger than the small-school threshold.")
    if params["base_min"] < params["small_min"]:
        errors["base_min"] = _("Must not be below the small-school minimum.")
    return errors


@_rule(
    "guards_staffing",
    label=_("Full-time guards"),
    description=_(
        "Full-time guards by enrolment: under the small-school threshold the small-school "
        "minimum; at the base enrolment the base number, plus more per further step; in "
        "between interpolated and rounded up; boarding schools at least the boarding "
        "minimum. Part-time guards do not count (§1 二(一)一, §2 4; “三个100%”)."
    ),
    params={
        "small_threshold": ParamSpec(100, 1, 5000, _("Small school: pupils under")),
        "small_min": ParamSpec(1, 0, 20, _("Small school: guards at least")),
        "base_pupils": ParamSpec(1000, 2, 20000, _("Base enrolment (pupils)")),
        "base_min": ParamSpec(3, 1, 50, _("Guards at the base enrolment")),
        "step_pupils": ParamSpec(500, 50, 10000, _("Further pupils per step")),
        "step_add": ParamSpec(1, 0, 10, _("Guards added per step")),
        "boarding_min": ParamSpec(2, 0, 50, _("Boarding school: guards at least")),
    },
    area="personnel",
    check=_check_staffing,
)
def guards_staffing(facts: SchoolFacts, params: dict) -> dict:
    guards = facts.staff_of(GUARD)
    full = sum(1 for g in guards if g.full_time)
    part = len(guards) - full
    evidence = [message("guards_full_time", n=full)]
    if part:
        evidence.append(message("guards_part_time", n=part))
    if facts.enrolment <= 0:
        # Unknown enrolment: short of even the smallest school's minimum is a failure;
        # otherwise the number needed cannot be told.
        floor = max(int(params["small_min"]), int(params["boarding_min"]) * facts.is_boarding)
        evidence.append(message("enrolment_unknown"))
        if full < floor:
            return result(
                Verdict.FAIL,
                evidence=evidence,
                missing=[message("guards_need", n=floor - full)],
                required=floor,
                actual=full,
            )
        return result(Verdict.NO_DATA, evidence=evidence, actual=full)
    need = guards_required(facts.enrolment, facts.is_boarding, params)
    by_enrolment = guards_required(facts.enrolment, False, params)
    evidence.append(message("guards_required", enrolment=facts.enrolment, n=by_enrolment))
    if need > by_enrolment:
        evidence.append(message("guards_required_boarding", n=need))
    if full >= need:
        return result(Verdict.PASS, evidence=evidence, required=need, actual=full)
    return result(
        Verdict.FAIL,
        evidence=evidence,
        missing=[message("guards_need", n=need - full)],
        required=need,
        actual=full,
    )


@_rule(
    "guards_certified",
    label=_("Guards certified and filed"),
    description=_(
        "Every active guard holds a valid guard certificate, has passed the background "
        "check and is filed with the police (《保安服务管理条例》; §1 二(一)一, §2 4)."
    ),
    area="personnel",
)
def guards_certified(facts: SchoolFacts, params: dict) -> dict:
    guards = facts.staff_of(GUARD)
    if not guards:
        return result(Verdict.NOT_APPLICABLE, evidence=[message("no_guards")])
    missing, ok = [], 0
    for g in guards:
        problems = []
        if not g.certificate_number:
            problems.append(message("guard_no_certificate", name=g.name))
        elif g.certificate_expires_on is not None and g.certificate_expires_on < facts.today:
            problems.append(
                message(
                    "guard_certificate_expired",
                    name=g.name,
                    date=g.certificate_expires_on.isoformat(),
                )
            )
        if g.background_check != PASSED:
            problems.append(message("guard_background", name=g.name))
        if not g.filed_with_police:
            problems.append(message("guard_not_filed", name=g.name))
        ok += not problems
        missing.extend(problems)
    evidence = [message("guards_certified", ok=ok, n=len(guards))]
    verdict = Verdict.PASS if ok == len(guards) else Verdict.FAIL
    return result(verdict, evidence=evidence, missing=missing, required=len(guards), actual=ok)


@_rule(
    "dormitory_managers",
    label=_("Dormitory managers"),
    description=_(
        "Boarding schools have dormitory managers for the nights (§1 二(一)一, §2 5); not "
        "applicable to day schools."
    ),
    params={"min_managers": ParamSpec(1, 1, 50, _("Dormitory managers at least"))},
    area="personnel",
)
def dormitory_managers(facts: SchoolFacts, params: dict) -> dict:
    if not facts.is_boarding:
        return result(Verdict.NOT_APPLICABLE, evidence=[message("not_boarding")])
    need = int(params["min_managers"])
    have = len(facts.staff_of(DORM))
    evidence = [message("dorm_have", n=have)]
    if have >= need:
        return result(Verdict.PASS, evidence=evidence, required=need, actual=have)
    return result(
        Verdict.FAIL,
        evidence=evidence,
        missing=[message("dorm_need", n=need - have)],
        required=need,
        actual=have,
    )


# ------------------------------------------------------------------ equipment


@_rule(
    "equipment_complete",
    label=_("Protective equipment complete"),
    description=_(
        "Every required item of the county's basic protective set is there in at least its "
        "minimum quantity and none is broken (《规范》: eight items; §1 二(一)一). With "
        "“per guard” on, items issued to each guard are needed once per full-time guard too."
    ),
    params={"per_guard": ParamSpec(0, 0, 1, _("Per-guard items needed once per full-time guard"))},
    area="equipment",
)
def equipment_complete(facts: SchoolFacts, params: dict) -> dict:
    items = facts.required_equipment
    if not items:
        return result(Verdict.NOT_APPLICABLE, evidence=[message("equipment_no_list")])
    guards = sum(1 for g in facts.staff_of(GUARD) if g.full_time)
    missing, ok = [], 0
    for item in items:
        need = item.min_quantity
        if item.per_guard and params.get("per_guard"):
            need = max(need, guards)
        quantity, condition = facts.stock.get(item.type_id, (0, ""))
        if condition == "broken":
            missing.append(message("equipment_broken", item=item.name))
        elif quantity < need:
            missing.append(message("equipment_short", item=item.name, have=quantity, min=need))
        else:
            ok += 1
    evidence = [message("equipment_complete", ok=ok, n=len(items))]
    verdict = Verdict.PASS if ok == len(items) else Verdict.FAIL
    return result(verdict, evidence=evidence, missing=missing, required=len(items), actual=ok)


# ------------------------------------------------------------------ physical defence


def _flag_rule(facts: SchoolFacts, name: str, yes: str, no: str, need: str) -> dict:
    if facts.defence is None:
        return result(Verdict.NO_DATA, evidence=[message("no_profile")])
    if facts.defence.get(name):
        return result(Verdict.PASS, evidence=[message(yes)], required=1, actual=1)
    return result(
        Verdict.FAIL, evidence=[message(no)], missing=[message(need)], required=1, actual=0
    )


@_rule(
    "gatehouse_24h",
    label=_("Gatehouse staffed 24 hours"),
    description=_(
        "A full-time gatehouse staffed around the clock (§1 二(一)一: 24-hour duty; §2 4)."
    ),
    area="defence",
)
def gatehouse_24h(facts: SchoolFacts, params: dict) -> dict:
    return _flag_rule(facts, "gatehouse_24h", "gatehouse_yes", "gatehouse_no", "gatehouse_need")


@_rule(
    "closed_management",
    label=_("Closed management"),
    description=_(
        "The campus is under closed management (§1 二(一)二; “三个100%”: closed "
        "management at 100 %)."
    ),
    area="defence",
)
def closed_management(facts: SchoolFacts, params: dict) -> dict:
    return _flag_rule(facts, "closed_management", "closed_yes", "closed_no", "closed_need")


PERIMETERS = ("wall", "fence", "partial", "none")


@_rule(
    "physical_barriers",
    label=_("Physical barriers"),
    description=_(
        "A closed perimeter (wall or fence) and anti-ram protection at the gate: bollards or "
        "a vehicle barrier (§1 二(一)二; 《规范》)."
    ),
    params={"min_bollards": ParamSpec(1, 1, 100, _("Bollards at least (without a barrier)"))},
    area="defence",
)
def physical_barriers(facts: SchoolFacts, params: dict) -> dict:
    d = facts.defence
    if d is None:
        return result(Verdict.NO_DATA, evidence=[message("no_profile")])
    evidence, missing = [], []
    perimeter = d.get("perimeter") or "none"
    closed = perimeter in ("wall", "fence")
    evidence.append(
        message(f"perimeter_{perimeter}" if perimeter in PERIMETERS else "perimeter_none")
    )
    if not closed:
        missing.append(message("perimeter_need"))
    min_bollards = int(params["min_bollards"])
    bollards = int(d.get("bollards") or 0)
    barrier = bool(d.get("vehicle_barrier"))
    if bollards:
        evidence.append(message("bollards", n=bollards))
    if barrier:
        evidence.append(message("vehicle_barrier"))
    anti_ram = barrier or bollards >= min_bollards
    if not bollards and not barrier:
        evidence.append(message("barrier_none"))
    if not anti_ram:
        missing.append(message("barrier_need", n=min_bollards))
    met = closed + anti_ram
    verdict = Verdict.PASS if met == 2 else Verdict.FAIL
    return result(verdict, evidence=evidence, missing=missing, required=2, actual=met)


# ------------------------------------------------------------------ technical defence

ONE_CLICK = "one_click_alarm"


@_rule(
    "alarm_networked",
    label=_("One-click alarm networked"),
    description=_(
        "A one-click emergency alarm reaches the police: an active HuXiao alarm box, or "
        "another one-click alarm in service and networked to the police (§1 二(一)二, "
        "§2 6; “三个100%”)."
    ),
    area="defence",
)
def alarm_networked(facts: SchoolFacts, params: dict) -> dict:
    boxes = facts.alarm_boxes_active
    active, networked = facts.systems.get(ONE_CLICK, (0, 0))
    evidence = []
    if boxes:
        evidence.append(message("alarm_boxes", n=boxes))
    if networked:
        evidence.append(message("alarm_systems_networked", n=networked))
    if active - networked:
        evidence.append(message("alarm_systems_offline", n=active - networked))
    reaching = boxes + networked
    if reaching:
        return result(Verdict.PASS, evidence=evidence, required=1, actual=reaching)
    if not evidence:
        evidence.append(message("alarm_none"))
    return result(
        Verdict.FAIL, evidence=evidence, missing=[message("alarm_need")], required=1, actual=0
    )


def _share(part: int, whole: int) -> int:
    """A whole percentage, rounded down (99.6 % is not 100 %)."""
    return part * 100 // whole if whole else 0


@_rule(
    "video_networked",
    label=_("Video networked"),
    description=_(
        "Cameras in service at key areas, networked to the police at the required share "
        "(§1 二(一)二, §2 6; “三个100%”)."
    ),
    params={
        "min_cameras": ParamSpec(1, 1, 500, _("Cameras in service at least")),
        "min_share": ParamSpec(100, 1, 100, _("Share networked to the police at least (%)")),
    },
    area="defence",
)
def video_networked(facts: SchoolFacts, params: dict) -> dict:
    cameras, networked = facts.cameras_active, facts.cameras_networked
    min_cameras, min_share = int(params["min_cameras"]), int(params["min_share"])
    share = _share(networked, cameras)
    if cameras:
        evidence = [message("cameras", n=cameras, networked=networked, share=share)]
    else:
        evidence = [message("cameras_none")]
    missing = []
    if cameras < min_cameras:
        missing.append(message("cameras_need", n=min_cameras - cameras))
    # Cameras to network so that networked / cameras reaches the share: ceil(c × s / 100).
    needed_networked = -(-max(cameras, min_cameras) * min_share // 100)
    if networked < needed_networked:
        missing.append(message("cameras_network", n=needed_networked - networked, share=min_share))
    verdict = Verdict.FAIL if missing else Verdict.PASS
    return result(verdict, evidence=evidence, missing=missing, required=min_share, actual=share)


@_rule(
    "video_retention",
    label=_("Video retention"),
    description=_(
        "Recorded video is kept at least the given number of days (GB/T 29315-2022; default 30)."
    ),
    params={"min_days": ParamSpec(30, 1, 365, _("Days at least"))},
    area="defence",
)
def video_retention(facts: SchoolFacts, params: dict) -> dict:
    if facts.defence is None:
        return result(Verdict.NO_DATA, evidence=[message("no_profile")])
    days = facts.defence.get("video_retention_days")
    need = int(params["min_days"])
    if days is None:
        return result(Verdict.NO_DATA, evidence=[message("retention_unknown")], required=need)
    evidence = [message("retention", n=days)]
    if days >= need:
        return result(Verdict.PASS, evidence=evidence, required=need, actual=days)
    return result(
        Verdict.FAIL,
        evidence=evidence,
        missing=[message("retention_need", n=need)],
        required=need,
        actual=days,
    )


@_rule(
    "monitoring_room",
    label=_("Monitoring room"),
    description=_(
        "A monitoring room, staffed 24 hours with a written log (§2 6); the county may "
        "require only the room."
    ),
    params={"require_24h": ParamSpec(1, 0, 1, _("Staffed 24 hours required"))},
    area="defence",
)
def monitoring_room(facts: SchoolFacts, params: dict) -> dict:
    d = facts.defence
    if d is None:
        return result(Verdict.NO_DATA, evidence=[message("no_profile")])
    need_24h = bool(params.get("require_24h"))
    if not d.get("monitoring_room"):
        return result(
            Verdict.FAIL,
            evidence=[message("room_none")],
            missing=[message("room_need")],
            required=1,
            actual=0,
        )
    staffed = bool(d.get("monitoring_room_24h"))
    evidence = [message("room_24h" if staffed else "room_not_24h")]
    if need_24h and not staffed:
        return result(
            Verdict.FAIL,
            evidence=evidence,
            missing=[message("room_need_24h")],
            required=1,
            actual=0,
        )
    return result(Verdict.PASS, evidence=evidence, required=1, actual=1)


# ------------------------------------------------------------------ duty


@_rule(
    "patrol_rounds",
    label=_("Patrol rounds"),
    description=_(
        "Key areas patrolled at least the given number of rounds every day of the last "
        "full days (scanned at the QR checkpoints); boarding schools also at least the given "
        "number of night rounds each night (§2 5: night patrols)."
    ),
    params={
        "rounds_per_day": ParamSpec(5, 1, 48, _("Rounds a day at least")),
        "night_rounds": ParamSpec(1, 0, 12, _("Night rounds (boarding) at least")),
        "days": ParamSpec(7, 1, 31, _("Full days looked at")),
    },
    area="rounds",
)
def patrol_rounds(facts: SchoolFacts, params: dict) -> dict:
    per_day, per_night = int(params["rounds_per_day"]), int(params["night_rounds"])
    missing, ok_days, lowest = [], 0, None
    # Day rounds count towards the day (as the daily missed-rounds check counts them);
    # night rounds are the boarding schools' own requirement.
    for day in facts.round_days:
        done = facts.rounds.get(day, (0, 0))[0]
        lowest = done if lowest is None else min(lowest, done)
        if done >= per_day:
            ok_days += 1
        else:
            missing.append(
                message("rounds_day_short", date=day.isoformat(), done=done, min=per_day)
            )
    evidence = [message("rounds_days", ok=ok_days, n=len(facts.round_days), min=per_day)]
    if facts.is_boarding and per_night:
        ok_nights = 0
        for night in facts.night_days:
            done = facts.rounds.get(night, (0, 0))[1]
            if done >= per_night:
                ok_nights += 1
            else:
                missing.append(
                    message("rounds_night_short", date=night.isoformat(), done=done, min=per_night)
                )
        evidence.append(
            message("rounds_nights", ok=ok_nights, n=len(facts.night_days), min=per_night)
        )
    verdict = Verdict.FAIL if missing else Verdict.PASS
    return result(verdict, evidence=evidence, missing=missing, required=per_day, actual=lowest)


# ------------------------------------------------------------------ the county's rule set


def clean_params(key: str, raw) -> dict:
    """A rule's parameters: its defaults overlaid with the given known keys, each a number
    within its bounds, then the cross-parameter checks. Raises ValidationError keyed by
    parameter name (every problem at once)."""
    from django.core.exceptions import ValidationError

    kind = RULES[key]
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError({"params": [_("Give the parameters as an object of numbers.")]})
    params = kind.default_params
    errors: dict[str, list] = {}
    for name, value in raw.items():
        spec = kind.params.get(name)
        if spec is None:
            errors.setdefault(str(name)[:50], []).append(_("Unknown parameter for this rule."))
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.setdefault(name, []).append(_("Enter a number."))
            continue
        # The range first: it also refuses infinities and NaN before int() sees them.
        if not spec.minimum <= value <= spec.maximum:
            errors.setdefault(name, []).append(
                _("Must be from %(min)s to %(max)s.") % {"min": spec.minimum, "max": spec.maximum}
            )
            continue
        if spec.integer and value != int(value):
            errors.setdefault(name, []).append(_("Enter a whole number."))
            continue
        params[name] = int(value) if spec.integer else float(value)
    if not errors and kind.check is not None:
        for name, text in kind.check(params).items():
            errors.setdefault(name, []).append(text)
    if errors:
        raise ValidationError(errors)
    return params


def effective_params(key: str, stored) -> dict:
    """The parameters a stored rule runs with: defaults overlaid with the stored values that
    are still valid (a value out of today's bounds falls back to the default)."""
    kind = RULES[key]
    params = kind.default_params
    if isinstance(stored, dict):
        for name, value in stored.items():
            spec = kind.params.get(name)
            if (
                spec is not None
                and not isinstance(value, bool)
                and isinstance(value, int | float)
                and spec.minimum <= value <= spec.maximum
            ):
                params[name] = int(value) if spec.integer else float(value)
    if kind.check is not None and kind.check(params):
        return kind.default_params
    return params


def ensure_rules(region) -> list:
    """The county's rule set in rule order, created with the shipped defaults the first time
    (a rule kind shipped later is appended, switched on). Safe to call concurrently."""
    from django.db import IntegrityError, transaction

    from huxiao.security.models import ComplianceRule

    region_id = region if isinstance(region, int) else region.pk
    rules = list(ComplianceRule.objects.filter(region_id=region_id).order_by("order", "id"))
    have = {r.key for r in rules}
    missing = [key for key in RULES if key not in have]
    if missing:
        order = {key: n for n, key in enumerate(RULES)}
        try:
            with transaction.atomic():
                ComplianceRule.objects.bulk_create(
                    [
                        ComplianceRule(region_id=region_id, key=key, order=order[key])
                        for key in missing
                    ]
                )
        except IntegrityError:
            pass  # Another request created them first: read theirs.
        rules = list(ComplianceRule.objects.filter(region_id=region_id).order_by("order", "id"))
    return [r for r in rules if r.key in RULES]


def rule_params(region_id, key) -> dict:
    """The parameters of the county's rule `key` in force ({} when switched off); a county
    without a rule set yet runs the shipped defaults."""
    from huxiao.security.models import ComplianceRule

    if key not in RULES:
        return {}
    row = ComplianceRule.objects.filter(region_id=region_id, key=key).first()
    if row is None:
        return RULES[key].default_params
    if not row.enabled:
        return {}
    return effective_params(key, row.params)
