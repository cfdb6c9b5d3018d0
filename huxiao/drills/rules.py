"""The activity rule kinds and each county's activity rule set (issue 8 item 3; ADR 0030).

A rule kind is code; a county's rule is data (`ActivityRule`: switched on or off, its
parameters within the kind's bounds), kept by the county-level offices holding
MANAGE_ACTIVITY_RULES — the same shape as the security rules (`huxiao.security.rules`,
ADR 0028), whose `RuleKind`, `message` and `result` are reused here. Each kind judges one
school from facts fetched beforehand for all the schools at once (`compliance.py`): a rule
never queries the database.

Verdicts: pass; fail (a deadline passed short); due (the deadline is ahead: what is still
missing and the deadline); no data (e.g. a school without classes). Evidence and what is
missing are stored messages ({"key", "params"}) rendered in the reader's language.

Shipped defaults (§1 二(五)二, §2 7):
- weekly_drill: at least 1 held evacuation drill in every school week of the term (a
  Monday–Sunday week with a weekday in the term outside its holidays), judged up to the last
  completed week; the running week is due, not failed ("每周利用课间操组织一次学生疏散演练");
- safety_education_per_class: every class at least 1 held safety-education session per term
  (one naming the class, or a whole-school one) ("每学期开展一次以上…安全防范教育");
- lvp_lecture: at least 1 held legal lecture per term given by the school's legal
  vice-principal in office that day ("法制副校长…指导学校定期开展对师生的法制安全教育");
- parent_meeting_lvp: at least 1 held parent meeting per term attended by the legal
  vice-principal ("定期参加学校召开的家长会");
- staff_training: at least 1 held staff training per term ("对教职员工…开展…培训").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.drills.choices import ActivityKind
from huxiao.security.rules import RuleKind, message, result
from huxiao.supervision.indicators import ParamSpec

__all__ = ["RULES", "RuleKind", "SchoolFacts", "message", "result"]


class ActivityVerdict(models.TextChoices):
    PASS = "pass", _("Meets the rule")
    FAIL = "fail", _("Does not meet the rule")
    DUE = "due", _("Due, deadline not reached")
    NO_DATA = "no_data", _("No data")


V = ActivityVerdict
# Missing items that are still due (not failed) even inside a failed verdict.
STILL_DUE = frozenset({"week_due"})

# Message key → English msgid. Keys are stored in verdicts and flags: never renamed.
MESSAGES = {
    "no_term": _("No school term found for the county"),
    # weekly_drill
    "weeks_ok": _("%(ok)s of %(n)s completed school weeks with at least %(min)s held drills"),
    "last_drill": _("Last drill held on %(date)s"),
    "no_drill": _("No drill held in this term yet"),
    "week_short": _("Week of %(monday)s to %(sunday)s: %(done)s of %(min)s drills held"),
    "week_due": _("This week (%(monday)s to %(sunday)s): %(done)s of %(min)s drills so far"),
    "no_week_yet": _("No school week of the term has begun yet"),
    # safety_education_per_class
    "no_classes": _("No classes recorded for the school"),
    "classes_ok": _("%(ok)s of %(n)s classes with at least %(min)s safety-education sessions"),
    "whole_school": _("Whole-school safety-education sessions held: %(n)s"),
    "class_short": _("%(name)s: %(done)s of %(min)s safety-education sessions"),
    # lvp_lecture / parent_meeting_lvp / staff_training
    "lectures_lvp": _("Legal lectures by the legal vice-principal this term: %(n)s"),
    "lectures_police": _("Legal lectures by a police officer this term: %(n)s"),
    "lectures_other": _("Legal lectures not counted (not by the legal vice-principal): %(n)s"),
    "lecture_need": _("%(n)s more legal lectures by the legal vice-principal (deadline %(date)s)"),
    "lecture_need_police": _("%(n)s more legal lectures by a police officer (deadline %(date)s)"),
    "meetings_lvp": _("Parent meetings attended by the legal vice-principal this term: %(n)s"),
    "meetings_police": _("Parent meetings attended by a police officer this term: %(n)s"),
    "meetings_other": _("Parent meetings without the legal vice-principal (not counted): %(n)s"),
    "meeting_need": _(
        "%(n)s more parent meetings attended by the legal vice-principal (deadline %(date)s)"
    ),
    "meeting_need_police": _(
        "%(n)s more parent meetings attended by a police officer (deadline %(date)s)"
    ),
    "no_lvp": _("The school has no legal vice-principal in this term"),
    "trainings": _("Staff trainings held this term: %(n)s"),
    "training_need": _("%(n)s more staff trainings (deadline %(date)s)"),
    "last_held": _("Last held on %(date)s"),
}


def render_message(item) -> str:
    """A stored message in the active language; an unknown key or bad parameters give the
    key itself (verdicts and flags outlive code changes)."""
    if not isinstance(item, dict):
        return ""
    key, params = str(item.get("key", "")), item.get("params") or {}
    text = MESSAGES.get(key)
    try:
        return str(text % params if params else text) if text is not None else key
    except (KeyError, TypeError, ValueError):
        return key


# ------------------------------------------------------------------ facts


@dataclass
class SchoolFacts:
    """What the rules need of one school and its term, fetched for all schools at once."""

    school_id: int
    region_id: int
    today: dt.date
    term: object = None  # drills.Term (maybe unsaved: the default calendar)
    weeks: list[dt.date] = field(default_factory=list)  # Mondays of the school weeks
    drills: dict[dt.date, int] = field(default_factory=dict)  # held drills per date
    classes: list[tuple[int, str]] = field(default_factory=list)
    class_sessions: dict[int, list[dt.date]] = field(default_factory=dict)
    whole_school_sessions: list[dt.date] = field(default_factory=list)
    # kind → [(date, police officer id)], one item per held activity in the term
    held: dict[str, list[tuple[dt.date, int | None]]] = field(default_factory=dict)
    # the school's legal vice-principal assignments: (officer id, first day, last day|None)
    lvps: list[tuple[int, dt.date, dt.date | None]] = field(default_factory=list)

    def in_term(self, day: dt.date) -> bool:
        return self.term.starts_on <= day <= self.term.ends_on

    def lvp_on(self, officer_id: int | None, day: dt.date) -> bool:
        return officer_id is not None and any(
            officer == officer_id and first <= day and (last is None or day <= last)
            for officer, first, last in self.lvps
        )

    @property
    def term_over(self) -> bool:
        return self.today > self.term.ends_on


def judged(verdict: str, *, deadline: dt.date | None = None, **kwargs) -> dict:
    """A verdict with the deadline it is judged against (ISO text, or None)."""
    return {**result(verdict, **kwargs), "deadline": deadline.isoformat() if deadline else None}


Evaluate = Callable[[SchoolFacts, dict], dict]
RULES: dict[str, RuleKind] = {}
REMIND_DAYS = ParamSpec(14, 1, 60, _("Remind this many days before the term ends"))
ANY_OFFICER = ParamSpec(0, 0, 1, _("Any police officer counts, not only the legal vice-principal"))


def per_term(minimum_label) -> dict[str, ParamSpec]:
    return {"min_per_term": ParamSpec(1, 1, 10, minimum_label), "remind_days": REMIND_DAYS}


def _rule(key, *, label, description, params, kind: str):
    """Register a rule kind; `area` holds the activity kind that meets it (for links)."""

    def decorate(evaluate: Evaluate) -> Evaluate:
        RULES[key] = RuleKind(
            key=key,
            label=label,
            description=description,
            evaluate=evaluate,
            params=params,
            area=kind,
        )
        return evaluate

    return decorate


# ------------------------------------------------------------------ weekly drills


@_rule(
    "weekly_drill",
    label=_("Weekly evacuation drill"),
    description=_(
        "At least the given number of held evacuation drills in every school week of the term "
        "(§2 7: an evacuation drill every week during the break). Weeks wholly in a holiday do "
        "not count; the running week is due until it ends."
    ),
    params={
        "min_per_week": ParamSpec(1, 1, 7, _("Drills a week at least")),
        "remind_weekday": ParamSpec(4, 1, 5, _("Remind from this weekday (1 = Monday)")),
    },
    kind=ActivityKind.DRILL,
)
def weekly_drill(facts: SchoolFacts, params: dict) -> dict:
    need = int(params["min_per_week"])
    counts = week_counts(facts)
    done = [m for m in facts.weeks if m + dt.timedelta(days=6) < facts.today]
    running = [m for m in facts.weeks if m <= facts.today <= m + dt.timedelta(days=6)]
    short = [m for m in done if counts.get(m, 0) < need]
    held = [d for d in facts.drills if facts.in_term(d) and d <= facts.today]
    evidence = [message("weeks_ok", ok=len(done) - len(short), n=len(done), min=need)]
    evidence.append(
        message("last_drill", date=max(held).isoformat()) if held else message("no_drill")
    )
    missing = [week_message("week_short", m, counts.get(m, 0), need) for m in short]
    figures = {"required": len(done), "actual": len(done) - len(short)}
    # The running week still short is listed as due, failed weeks or not.
    sunday = None
    if running and counts.get(running[0], 0) < need:
        missing.append(week_message("week_due", running[0], counts.get(running[0], 0), need))
        sunday = running[0] + dt.timedelta(days=6)
    if short:
        return judged(V.FAIL, evidence=evidence, missing=missing, deadline=sunday, **figures)
    if sunday is not None:
        return judged(V.DUE, evidence=evidence, missing=missing, deadline=sunday, **figures)
    if not done and not running:
        return judged(V.NO_DATA, evidence=[message("no_week_yet")])
    return judged(V.PASS, evidence=evidence, **figures)


def week_counts(facts: SchoolFacts) -> dict[dt.date, int]:
    """Held drills per week (keyed by Monday)."""
    counts: dict[dt.date, int] = {}
    for day, n in facts.drills.items():
        monday = day - dt.timedelta(days=day.weekday())
        counts[monday] = counts.get(monday, 0) + n
    return counts


def week_message(key: str, monday: dt.date, done: int, need: int) -> dict:
    sunday = monday + dt.timedelta(days=6)
    return message(key, monday=monday.isoformat(), sunday=sunday.isoformat(), done=done, min=need)


# ------------------------------------------------------------------ per-term rules


def term_verdict(facts: SchoolFacts, *, have: int, need: int, evidence, missing) -> dict:
    """Pass once `need` is reached; before that due until the term ends, then failed."""
    end = facts.term.ends_on
    if have >= need:
        return judged(V.PASS, evidence=evidence, required=need, actual=have, deadline=end)
    verdict = V.FAIL if facts.term_over else V.DUE
    return judged(
        verdict, evidence=evidence, missing=missing, required=need, actual=have, deadline=end
    )


@_rule(
    "safety_education_per_class",
    label=_("Safety education for every class"),
    description=_(
        "Every class takes part in at least the given number of held safety-education "
        "sessions each term — one naming the class, or a whole-school one (§2 7: safety "
        "education at least once a term)."
    ),
    params=per_term(_("Sessions per class per term at least")),
    kind=ActivityKind.SAFETY_EDUCATION,
)
def safety_education_per_class(facts: SchoolFacts, params: dict) -> dict:
    if not facts.classes:
        return judged(V.NO_DATA, evidence=[message("no_classes")])
    need = int(params["min_per_term"])
    whole = len(facts.whole_school_sessions)
    missing = []
    for class_id, name in facts.classes:
        done = whole + len(facts.class_sessions.get(class_id, ()))
        if done < need:
            missing.append(message("class_short", name=name, done=done, min=need))
    ok = len(facts.classes) - len(missing)
    evidence = [message("classes_ok", ok=ok, n=len(facts.classes), min=need)]
    if whole:
        evidence.append(message("whole_school", n=whole))
    verdict = term_verdict(
        facts, have=ok, need=len(facts.classes), evidence=evidence, missing=missing
    )
    return verdict


def _with_police(facts: SchoolFacts, params: dict, kind: str, keys: dict) -> dict:
    """A per-term rule met by held activities of `kind` with the legal vice-principal (or,
    with `any_officer`, any police officer) present."""
    need = int(params["min_per_term"])
    any_officer = bool(params.get("any_officer"))
    items = facts.held.get(kind, [])
    counted = [
        day
        for day, officer in items
        if (officer is not None if any_officer else facts.lvp_on(officer, day))
    ]
    suffix = "_police" if any_officer else "_lvp"
    evidence = [message(keys["have"] + suffix, n=len(counted))]
    if len(items) > len(counted):
        evidence.append(message(keys["other"], n=len(items) - len(counted)))
    if counted:
        evidence.append(message("last_held", date=max(counted).isoformat()))
    need_key = keys["need"] + ("_police" if any_officer else "")
    missing = [message(need_key, n=need - len(counted), date=facts.term.ends_on.isoformat())]
    if not any_officer and not any(facts.lvp_on(o, d) for o, d in _lvp_days(facts)):
        missing.append(message("no_lvp"))
    return term_verdict(facts, have=len(counted), need=need, evidence=evidence, missing=missing)


def _lvp_days(facts: SchoolFacts):
    """(officer, a day of the term) for each assignment that reaches into the term."""
    for officer, first, last in facts.lvps:
        day = max(first, facts.term.starts_on)
        if day <= facts.term.ends_on and (last is None or last >= day):
            yield officer, day


def _police_rule(key, kind, *, label, description, minimum_label, messages: dict) -> None:
    """Register a per-term rule met by activities of `kind` with the legal vice-principal
    (or any police officer) present; `messages` names its message keys."""

    def evaluate(facts: SchoolFacts, params: dict) -> dict:
        return _with_police(facts, params, kind, messages)

    params = {**per_term(minimum_label), "any_officer": ANY_OFFICER}
    _rule(key, label=label, description=description, params=params, kind=kind)(evaluate)


_police_rule(
    "lvp_lecture",
    ActivityKind.LEGAL_LECTURE,
    label=_("Legal lecture by the legal vice-principal"),
    description=_(
        "At least the given number of held legal lectures each term given by the school's "
        "legal vice-principal in office that day (§1 二(五)二, §2 7); the county may count a "
        "lecture by any police officer."
    ),
    minimum_label=_("Lectures per term at least"),
    messages={"have": "lectures", "other": "lectures_other", "need": "lecture_need"},
)
_police_rule(
    "parent_meeting_lvp",
    ActivityKind.PARENT_MEETING,
    label=_("Parent meeting with the legal vice-principal"),
    description=_(
        "At least the given number of held parent meetings each term attended by the legal "
        "vice-principal (§1 二(五)二, §2 7: the legal vice-principal attends parent "
        "meetings regularly); the county may count any police officer."
    ),
    minimum_label=_("Parent meetings per term at least"),
    messages={"have": "meetings", "other": "meetings_other", "need": "meeting_need"},
)


@_rule(
    "staff_training",
    label=_("Staff safety training"),
    description=_(
        "At least the given number of held staff trainings each term (§1 二(五)二, §2 7: "
        "teachers and staff are trained in law and safety)."
    ),
    params=per_term(_("Trainings per term at least")),
    kind=ActivityKind.STAFF_TRAINING,
)
def staff_training(facts: SchoolFacts, params: dict) -> dict:
    need = int(params["min_per_term"])
    days = [day for day, _officer in facts.held.get(ActivityKind.STAFF_TRAINING, [])]
    evidence = [message("trainings", n=len(days))]
    if days:
        evidence.append(message("last_held", date=max(days).isoformat()))
    missing = [message("training_need", n=need - len(days), date=facts.term.ends_on.isoformat())]
    return term_verdict(facts, have=len(days), need=need, evidence=evidence, missing=missing)


PER_TERM_RULES = (
    "safety_education_per_class",
    "lvp_lecture",
    "parent_meeting_lvp",
    "staff_training",
)


def evaluate(facts: SchoolFacts, rule_set: list[tuple[str, dict]]) -> list[dict]:
    """Every rule in force for one school: [{"rule": key, "verdict": …, …}]."""
    if facts.term is None:
        none = judged(V.NO_DATA, evidence=[message("no_term")])
        return [{"rule": key, **none} for key, _params in rule_set]
    return [{"rule": key, **RULES[key].evaluate(facts, params)} for key, params in rule_set]


# ------------------------------------------------------------------ parameters


def _param_error(spec: ParamSpec, value):
    """Why `value` is no good for `spec`, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _("Enter a number.")
    # The range first: it also refuses infinities and NaN before int() sees them.
    if not spec.minimum <= value <= spec.maximum:
        return _("Must be from %(min)s to %(max)s.") % {"min": spec.minimum, "max": spec.maximum}
    if spec.integer and value != int(value):
        return _("Enter a whole number.")
    return None


def clean_params(key: str, raw) -> dict:
    """A rule's parameters: its defaults overlaid with the given values, each a number
    within its bounds. Raises ValidationError keyed by parameter name (all at once)."""
    from django.core.exceptions import ValidationError

    kind = RULES[key]
    raw = {} if raw in (None, "") else raw
    if not isinstance(raw, dict):
        raise ValidationError({"params": [_("Give the parameters as an object of numbers.")]})
    params, errors = kind.default_params, {}
    for name, value in raw.items():
        spec = kind.params.get(name)
        problem = (
            _("Unknown parameter for this rule.") if spec is None else _param_error(spec, value)
        )
        if problem is not None:
            errors[str(name)[:50]] = [problem]
        else:
            params[name] = int(value) if spec.integer else float(value)
    if errors:
        raise ValidationError(errors)
    return params


def effective_params(key: str, stored) -> dict:
    """The parameters a stored rule runs with: the defaults overlaid with the stored values
    still within today's bounds."""
    kind = RULES[key]
    params = kind.default_params
    for name, value in (stored if isinstance(stored, dict) else {}).items():
        spec = kind.params.get(name)
        if spec is not None and _param_error(spec, value) is None:
            params[name] = int(value) if spec.integer else float(value)
    return params


def ensure_rules(region) -> list:
    """The county's activity rules in rule order, created with the shipped defaults the
    first time (a kind shipped later is appended, switched on). Safe to run concurrently."""
    from huxiao.drills.models import ActivityRule

    region_id = region if isinstance(region, int) else region.pk
    rows = list(ActivityRule.objects.filter(region_id=region_id).order_by("order", "id"))
    absent = [key for key in RULES if key not in {r.key for r in rows}]
    if absent:
        order = {key: n for n, key in enumerate(RULES)}
        ActivityRule.objects.bulk_create(
            [ActivityRule(region_id=region_id, key=k, order=order[k]) for k in absent],
            ignore_conflicts=True,
        )
        rows = list(ActivityRule.objects.filter(region_id=region_id).order_by("order", "id"))
    return [r for r in rows if r.key in RULES]


def rule_sets(region_ids) -> dict[int, list[tuple[str, dict]]]:
    """Per county: the rules in force in rule order, as (key, effective parameters). A
    county is given its default rule set the first time."""
    sets: dict[int, list[tuple[str, dict]]] = {}
    for region_id in sorted(set(region_ids)):
        rows = ensure_rules(region_id)
        sets[region_id] = [(r.key, effective_params(r.key, r.params)) for r in rows if r.enabled]
    return sets
