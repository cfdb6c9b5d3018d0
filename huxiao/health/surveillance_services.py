"""Writes of the surveillance: the county's cluster-alert rules, the evaluation that raises
cluster alerts, the notifiable-disease alert of a case, and closing and linking an alert
(issue 9 item 4; §3 3; ADR 0032 "Surveillance").

- **Rules** (`cluster_rules_set`, `cluster_rule_create`, `cluster_rule_update`): kept by
  the county-level organizations whose role grants MANAGE_HEALTH_RULES, for their own
  counties only: anyone else 403, a keeper naming another county 404. The first edit stores
  the shipped defaults (`cluster_rules_ensure`). Bounds as the model's check constraints;
  every problem keyed by field ("<kind>.<group>.<field>"), nothing written unless all is
  good; every change audited.
- **Evaluation** (`clusters_evaluate`): see its docstring. Real time: the services that
  record symptoms call `symptoms.cluster_check_on_commit(school_id)`; the daily job
  (tasks_surveillance) evaluates every school at 07:00 and 16:00.
- **Notifiable disease** (`alert_for_case`): called on commit by the case area.
- **Handling** (`cluster_alert_close`, `cluster_alert_link_case`): MANAGE_HEALTH at the
  alert's school. Order of checks: the alert through the actor's scope (404), the right
  (403), the state (`AlertConflict`, 409), the input (ValidationError by field, 400).

Who is told: `recipients.health_recipients` (the school's health staff and principals, the
health centre's officers); never the police. Messages carry counts, the class and the
symptoms, never a child's name (they may reach a robot group or an SMS); the names are on
the alert page, whose every view is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.audit.services import audit_create, audit_update, build_event, snapshot
from huxiao.core.events import publish_on_commit
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action, OrgKind, role_allows
from huxiao.core.scoping import memberships_of, visible_school_ids
from huxiao.health import surveillance_rules as R
from huxiao.health.choices import SYMPTOM_GROUPS, AlertStatus, RuleKind, SymptomGroup
from huxiao.health.models import ClusterAlert, ClusterRule, HealthCase, SymptomEvent
from huxiao.health.recipients import health_recipients
from huxiao.notify.services import notify_send, notify_send_many
from huxiao.orgs.models import Organization, Region
from huxiao.people import validation as v
from huxiao.people.models import SchoolClass

logger = logging.getLogger(__name__)

CLUSTER_EVENT = "health.cluster_alert"
# Live to the town and county offices' dashboards (ADR 0033): counts, never a child.
LIVE_EVENT = "health.alert.raised"
NOTIFIABLE_EVENT = "health.notifiable_alert"
NOTE_MAX = 500
MAX_ID = 2**63 - 1


class AlertConflict(ValidationError):
    """A step the alert's state does not allow (closing a closed alert): 409."""

    def __init__(self, message):
        super().__init__(message, code="transition")


# ------------------------------------------------------------------ who keeps the rules


def keeper_regions(actor) -> list[int]:
    """The counties whose rules the actor keeps: active county-level organizations whose
    role grants MANAGE_HEALTH_RULES (a town's health centre does not), each once."""
    regions: list[int] = []
    for m in memberships_of(actor):
        org = m.organization
        if not (org.is_active and org.is_county_level):
            continue
        if role_allows(m.role, Action.MANAGE_HEALTH_RULES, county_level=True):
            regions += [] if org.region_id in regions else [org.region_id]
    return regions


def reader_regions(actor) -> list[int]:
    """The counties whose rules the actor may read: those of the schools whose health
    records they see, and those they keep."""
    ids = visible_school_ids(actor, Action.VIEW_HEALTH)
    regions = keeper_regions(actor)
    if ids:
        found = (
            Organization.objects.filter(pk__in=ids)
            .order_by("region_id")
            .values_list("region_id", flat=True)
            .distinct()
        )
        regions += [r for r in found if r not in regions]
    return regions


def require_keeper(actor, region_id: int | None = None) -> Region:
    """The county (`region_id` among the actor's, or their first): 403 for anyone who keeps
    none, 404 for a county that is not theirs."""
    regions = keeper_regions(actor)
    if not regions:
        raise PermissionDenied(_("Only the county's health offices keep the cluster-alert rules."))
    if region_id is not None and region_id not in regions:
        raise Http404
    return Region.objects.get(pk=region_id if region_id is not None else regions[0])


# ------------------------------------------------------------------ rules


def cluster_rules_ensure(region_id: int, *, actor=None) -> list[ClusterRule]:
    """The county's stored rules, the shipped defaults stored (and audited) first when it
    has none. Call inside a transaction that holds the county's row locked."""
    rows = list(ClusterRule.objects.filter(region_id=region_id))
    if not rows:
        rows = R.default_rules(region_id)
        for rule in rows:
            rule.updated_by = acting_user(actor)
            rule.save()
            audit_create(actor=actor, obj=rule)
    return sorted(rows, key=R.sort_key)


def _int(value, field_name: str, bounds: tuple[int, int], errors: v.FieldErrors):
    low, high = bounds
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 6 else high + 1
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        errors.add(field_name, _("Enter a whole number."))
        return None
    if not low <= value <= high:
        errors.add(field_name, _("Must be from %(min)s to %(max)s.") % {"min": low, "max": high})
        return None
    return value


def _bool(value, field_name: str, errors: v.FieldErrors):
    if isinstance(value, bool):
        return value
    errors.add(field_name, _("Choose yes or no."))
    return None


def _clean_change(change, prefix: str, errors: v.FieldErrors, *, kind: str) -> dict:
    """The values of one rule's change: min_children, window_days, is_active (each
    optional); the notifiable rule takes only is_active."""
    cleaned: dict = {}
    allowed = (
        {"is_active"}
        if kind == RuleKind.NOTIFIABLE
        else {
            "min_children",
            "window_days",
            "is_active",
        }
    )
    for name in set(change) - allowed - {"kind", "symptom_group"}:
        errors.add(f"{prefix}.{str(name)[:40]}", _("This rule has no such setting."))
    if "min_children" in change and "min_children" in allowed:
        cleaned["min_children"] = _int(
            change["min_children"], f"{prefix}.min_children", R.MIN_CHILDREN, errors
        )
    if "window_days" in change and "window_days" in allowed:
        cleaned["window_days"] = _int(
            change["window_days"], f"{prefix}.window_days", R.WINDOW_DAYS, errors
        )
    if "is_active" in change:
        cleaned["is_active"] = _bool(change["is_active"], f"{prefix}.is_active", errors)
    return {k: val for k, val in cleaned.items() if val is not None}


def _rule_key(item, index: int, errors: v.FieldErrors) -> tuple[str, str] | None:
    if not isinstance(item, dict):
        errors.add(f"rules.{index}", _("Give each rule as an object."))
        return None
    kind = item.get("kind")
    group = item.get("symptom_group") or SymptomGroup.ANY
    if kind not in RuleKind.values:
        errors.add(f"rules.{index}.kind", _("Choose a kind of rule."))
        return None
    if group not in SymptomGroup.values:
        errors.add(f"{kind}.{str(group)[:20]}.symptom_group", _("Choose a symptom group."))
        return None
    if kind == RuleKind.NOTIFIABLE and group != SymptomGroup.ANY:
        errors.add(
            f"{kind}.{group}.symptom_group",
            _("The notifiable-disease rule covers every disease; it has no symptom group."),
        )
        return None
    return kind, group


def _region_id(region) -> int | None:
    if region is None:
        return None
    return region.pk if isinstance(region, Region) else int(region)


@transaction.atomic
def cluster_rules_set(*, actor, region=None, rules, create_only: bool = False) -> list:
    """Set the county's rules: each item {"kind", "symptom_group" (default "any"),
    "min_children", "window_days", "is_active"} changes the county's rule of that kind and
    group, or adds it (a rule for one symptom group of a cluster kind: then children and
    days are required). Rules not named keep their values. Errors keyed
    "<kind>.<group>.<field>" (or "rules.<n>…"); nothing is written unless every item is
    good. With `create_only`, naming an existing rule is an error. Returns the rules
    changed or added."""
    county = require_keeper(actor, _region_id(region))
    Region.objects.select_for_update().filter(pk=county.pk).first()
    if not isinstance(rules, list | tuple) or not rules:
        raise ValidationError({"rules": [_("Nothing to change.")]})
    stored = {(r.kind, r.symptom_group): r for r in cluster_rules_ensure(county.pk, actor=actor)}
    errors = v.FieldErrors()
    plan: list[tuple[tuple[str, str], dict]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(rules):
        key = _rule_key(item, index, errors)
        if key is None:
            continue
        prefix = f"{key[0]}.{key[1]}"
        if key in seen:
            errors.add(prefix, _("This rule is given twice."))
            continue
        seen.add(key)
        change = _clean_change(item, prefix, errors, kind=key[0])
        if key in stored and create_only:
            errors.add(
                f"{prefix}.symptom_group",
                _("The county has a rule for these symptoms already; change it instead."),
            )
        elif key not in stored:
            if key[1] == SymptomGroup.ANY or key[0] == RuleKind.NOTIFIABLE:
                errors.add(prefix, _("Unknown rule."))
            for name in ("min_children", "window_days"):
                if name not in item:
                    errors.add(f"{prefix}.{name}", _("This field is required."))
        plan.append((key, change))
    errors.raise_if_any()
    changed: list[ClusterRule] = []
    user = acting_user(actor)
    for key, change in plan:
        rule = stored.get(key)
        if rule is None:
            rule = ClusterRule(
                region=county,
                kind=key[0],
                symptom_group=key[1],
                is_active=change.get("is_active", True),
                min_children=change["min_children"],
                window_days=change["window_days"],
                updated_by=user,
            )
            rule.save()
            audit_create(actor=actor, obj=rule)
            changed.append(rule)
            continue
        before = snapshot(rule)
        for name, value in change.items():
            setattr(rule, name, value)
        if snapshot(rule) != before:
            rule.updated_by = user
            rule.save()
            audit_update(actor=actor, obj=rule, before=before)
            changed.append(rule)
    return changed


def cluster_rule_create(
    *, actor, region=None, kind, symptom_group, min_children, window_days, is_active=True
) -> ClusterRule:
    """Add the county's rule for one symptom group of a cluster kind (it replaces the
    similar-symptoms rule of that kind for the group)."""
    item = {
        "kind": kind,
        "symptom_group": symptom_group,
        "min_children": min_children,
        "window_days": window_days,
        "is_active": is_active,
    }
    return cluster_rules_set(actor=actor, region=region, rules=[item], create_only=True)[0]


def cluster_rule_update(*, actor, region=None, kind, symptom_group=SymptomGroup.ANY, **values):
    """Change one of the county's rules (min_children, window_days, is_active); returns the
    rule. A rule the county does not have is 404."""
    county = require_keeper(actor, _region_id(region))
    if (kind, symptom_group) not in {
        (r.kind, r.symptom_group) for r in R.rules_for_region(county.pk)
    }:
        raise Http404
    item = {"kind": kind, "symptom_group": symptom_group, **values}
    cluster_rules_set(actor=actor, region=county, rules=[item])
    return ClusterRule.objects.get(region=county, kind=kind, symptom_group=symptom_group)


# ------------------------------------------------------------------ evaluation


@dataclass
class _Match:
    """A rule matched by a school's (or a class's) children with one group of symptoms."""

    threshold: R.Threshold
    school_id: int
    class_id: int | None
    group: str
    window_start: dt.date
    children: dict[int, tuple[dt.date, dt.date]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return alert_key(self.threshold.kind, self.school_id, self.class_id, self.group)

    def add(self, child_id: int, day: dt.date) -> None:
        first, last = self.children.get(child_id, (day, day))
        self.children[child_id] = (min(first, day), max(last, day))

    @property
    def first_day(self) -> dt.date:
        return min(first for first, _last in self.children.values())

    @property
    def last_day(self) -> dt.date:
        return max(last for _first, last in self.children.values())


def alert_key(kind: str, school_id: int, class_id: int | None, group: str) -> str:
    """The key that is unique among open alerts: rule kind, school, class, symptom group."""
    return f"{kind}:{school_id}:{class_id or '-'}:{group}"


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _windows(sets: list[R.RuleSet], kind: str) -> dict[int, int]:
    """Window days in use for a kind of rule → the least number of children any rule with
    that window needs (the database keeps only the groups that may match)."""
    result: dict[int, int] = {}
    for rule_set in sets:
        for threshold in rule_set.thresholds.values():
            if threshold.kind == kind:
                days = threshold.window_days
                result[days] = min(result.get(days, threshold.min_children), threshold.min_children)
    return result


def _counts(events, today: dt.date, windows: dict[int, int], fields: tuple[str, ...]):
    """Distinct children per `fields` + symptom group, one count per window, keeping only
    the rows where some window reaches its least threshold (GROUP BY … HAVING)."""
    if not windows:
        return []
    counts = {
        f"n{days}": Count(
            "child_id", distinct=True, filter=Q(date__gte=today - dt.timedelta(days=days - 1))
        )
        for days in windows
    }
    having = Q()
    for days, least in windows.items():
        having |= Q(**{f"n{days}__gte": least})
    return list(events.values(*fields, "grp").annotate(**counts).filter(having).order_by())


def clusters_evaluate(*, school_ids=None, today: dt.date | None = None) -> list[ClusterAlert]:
    """Evaluate the cluster rules of each school's county on the line list (`SymptomEvent`)
    over each rule's window ending `today` (default: the local date), for the given schools
    (None: every school with events).

    Counts DISTINCT children per (school, class, symptom group) and per (school, group) in
    the database (GROUP BY), a fixed number of queries whatever the number of schools; only
    schools with events in the longest window are looked at. A match opens an alert, or
    adds its new children to the open alert of the same key (no second alert, no second
    message). When the key's alert was closed during the window and every matched child is
    in it, nothing is raised (the handled cluster is not raised again by the same
    children); one new child raises a new alert. New alerts are told to
    `health_recipients` once (dedupe per alert).

    Returns the alerts raised or grown, each with `is_new` and `added` (child ids)."""
    today = today or timezone.localdate()
    try:
        with transaction.atomic():
            return _evaluate(school_ids, today)
    except IntegrityError:
        # Another evaluation opened one of these alerts meanwhile: run again, now adding
        # to it instead.
        with transaction.atomic():
            return _evaluate(school_ids, today)


def _evaluate(school_ids, today: dt.date) -> list[ClusterAlert]:
    stored = R.rule_sets()
    sets = [*stored.values(), R.DEFAULT_SET]
    class_windows = _windows(sets, RuleKind.CLASS_CLUSTER)
    school_windows = _windows(sets, RuleKind.SCHOOL_CLUSTER)
    longest = max([*class_windows, *school_windows], default=0)
    if not longest:
        return []
    events = SymptomEvent.objects.filter(
        date__gte=today - dt.timedelta(days=longest - 1), date__lte=today
    )
    if school_ids is not None:
        events = events.filter(school_id__in=list(school_ids))
    events = events.annotate(grp=R.group_expression())
    rows = [
        (RuleKind.CLASS_CLUSTER, row)
        for row in _counts(events, today, class_windows, ("school_id", "school_class_id"))
    ]
    rows += [
        (RuleKind.SCHOOL_CLUSTER, row)
        for row in _counts(events, today, school_windows, ("school_id",))
    ]
    if not rows:
        return []
    schools = Organization.objects.only(
        "pk", "kind", "name", "short_name", "region_id", "town_id", "health_centre_id"
    ).in_bulk({row["school_id"] for _kind, row in rows})
    matches: dict[str, _Match] = {}
    for kind, row in rows:
        school = schools.get(row["school_id"])
        if school is None:
            continue
        rule_set = stored.get(school.region_id, R.DEFAULT_SET)
        threshold = rule_set.for_group(kind, row["grp"])
        if threshold is None or row[f"n{threshold.window_days}"] < threshold.min_children:
            continue
        match = _Match(
            threshold=threshold,
            school_id=school.pk,
            class_id=row.get("school_class_id"),
            group=row["grp"],
            window_start=today - dt.timedelta(days=threshold.window_days - 1),
        )
        matches[match.key] = match
    if not matches:
        return []
    _children_of(matches, today)
    return _raise_or_grow(list(matches.values()), schools)


def _children_of(matches: dict[str, _Match], today: dt.date) -> None:
    """Fill each match with its children and their first and last days in its window (one
    query over the matched schools and groups)."""
    by_class = {(m.school_id, m.class_id, m.group): m for m in matches.values() if m.class_id}
    by_school = {(m.school_id, m.group): m for m in matches.values() if not m.class_id}
    rows = (
        SymptomEvent.objects.filter(
            school_id__in={m.school_id for m in matches.values()},
            date__gte=min(m.window_start for m in matches.values()),
            date__lte=today,
        )
        .annotate(grp=R.group_expression())
        .filter(grp__in={m.group for m in matches.values()})
        .values_list("school_id", "school_class_id", "grp", "child_id", "date")
        .distinct()
        .order_by()
    )
    for school_id, class_id, group, child_id, day in rows:
        for match in (
            by_class.get((school_id, class_id, group)),
            by_school.get((school_id, group)),
        ):
            if match is not None and day >= match.window_start:
                match.add(child_id, day)


def _alert_children(alert_ids) -> dict[int, set[int]]:
    through = ClusterAlert.children.through
    result: dict[int, set[int]] = defaultdict(set)
    for alert_id, child_id in through.objects.filter(
        clusteralert_id__in=list(alert_ids)
    ).values_list("clusteralert_id", "child_id"):
        result[alert_id].add(child_id)
    return result


def _raise_or_grow(matches: list[_Match], schools: dict) -> list[ClusterAlert]:
    keys = [m.key for m in matches if m.children]
    open_alerts = {
        a.key: a for a in ClusterAlert.objects.filter(status=AlertStatus.OPEN, key__in=keys)
    }
    known = _alert_children([a.pk for a in open_alerts.values()])
    fresh = [m for m in matches if m.children and m.key not in open_alerts]
    handled: dict[str, list[tuple[dt.datetime, set[int]]]] = defaultdict(list)
    if fresh:
        closed = list(
            ClusterAlert.objects.filter(
                status=AlertStatus.CLOSED,
                key__in=[m.key for m in fresh],
                closed_at__gte=_start_of(min(m.window_start for m in fresh)),
            ).only("pk", "key", "closed_at")
        )
        closed_children = _alert_children([a.pk for a in closed])
        for alert in closed:
            handled[alert.key].append((alert.closed_at, closed_children[alert.pk]))
    now = timezone.now()
    through = ClusterAlert.children.through
    created: list[tuple[ClusterAlert, _Match]] = []
    for match in fresh:
        covered = set().union(
            *(
                kids
                for closed_at, kids in handled[match.key]
                if closed_at >= _start_of(match.window_start)
            )
        )
        if set(match.children) <= covered:
            continue
        alert = ClusterAlert(
            school_id=match.school_id,
            school_class_id=match.class_id,
            rule=match.threshold.rule,
            kind=match.threshold.kind,
            symptom_group=match.group,
            key=match.key,
            window_start=match.first_day,
            window_end=match.last_day,
            child_count=len(match.children),
            raised_at=now,
        )
        created.append((alert, match))
    grown: list[tuple[ClusterAlert, list[int], dict]] = []
    for match in matches:
        alert = open_alerts.get(match.key)
        if alert is None or not match.children:
            continue
        added = sorted(set(match.children) - known[alert.pk])
        if not added:
            continue
        before = snapshot(alert)
        alert.child_count = len(known[alert.pk]) + len(added)
        alert.window_start = min(alert.window_start, match.first_day)
        alert.window_end = max(alert.window_end, match.last_day)
        grown.append((alert, added, before))
    if not created and not grown:
        return []
    ClusterAlert.objects.bulk_create([alert for alert, _m in created])
    if grown:
        ClusterAlert.objects.bulk_update(
            [alert for alert, _a, _b in grown], ["child_count", "window_start", "window_end"]
        )
    links = [
        through(clusteralert_id=alert.pk, child_id=child_id)
        for alert, match in created
        for child_id in sorted(match.children)
    ]
    links += [
        through(clusteralert_id=alert.pk, child_id=child_id)
        for alert, added, _before in grown
        for child_id in added
    ]
    through.objects.bulk_create(links, ignore_conflicts=True)
    audits = [
        build_event(
            actor=None,
            action=AuditAction.CREATE,
            obj=alert,
            changes={"after": snapshot(alert), "children": sorted(match.children)},
            at=now,
        )
        for alert, match in created
    ]
    for alert, added, before in grown:
        after = snapshot(alert)
        changed = {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}
        audits.append(
            build_event(
                actor=None,
                action=AuditAction.UPDATE,
                obj=alert,
                changes={"fields": changed, "children_added": added},
                at=now,
            )
        )
    AuditEvent.objects.bulk_create(audits)
    _notify_raised([(alert, match.threshold) for alert, match in created], schools)
    for alert, _match in created:
        _publish_raised(alert, schools[alert.school_id])
    result = []
    for alert, match in created:
        alert.is_new, alert.added = True, sorted(match.children)
        result.append(alert)
    for alert, added, _before in grown:
        alert.is_new, alert.added = False, added
        result.append(alert)
    return result


# ------------------------------------------------------------------ messages


def _children_word(school) -> str:
    return "kindergarten" if school.kind == OrgKind.KINDERGARTEN else "school"


def _symptoms_phrase(group: str) -> str:
    label = str(SymptomGroup(group).label) if group in SymptomGroup.values else group
    if (translation.get_language() or "").startswith("en"):
        return label[:1].lower() + label[1:]
    return label


CLUSTER_TITLE = {
    "kindergarten": pgettext_lazy(
        "kindergarten", "%(place)s: %(n)s children with %(symptoms)s within %(days)s days"
    ),
    "school": pgettext_lazy(
        "school", "%(place)s: %(n)s children with %(symptoms)s within %(days)s days"
    ),
}
CLUSTER_BODY = {
    RuleKind.CLASS_CLUSTER: _(
        "Cluster alert of %(school)s (rule: at least %(min)s children of one class within "
        "%(days)s days). Check the children, tell the health centre and record the handling "
        "on the alert page."
    ),
    RuleKind.SCHOOL_CLUSTER: _(
        "Cluster alert of %(school)s (rule: at least %(min)s children of the school within "
        "%(days)s days). Check the children, tell the health centre and record the handling "
        "on the alert page."
    ),
}


def alert_title(alert: ClusterAlert, school, class_name: str = "", *, days: int = 0) -> str:
    """The sentence that names an alert, in the active language: "小一班 3 天内 3 名幼儿出现
    发热或咳嗽" for a class (the school's name for a school alert); `days` is the rule's
    window."""
    name = school.short_name or school.name
    if alert.kind == RuleKind.NOTIFIABLE:
        place = f"{name} {class_name}".strip()
        return str(_("Suspected notifiable disease: %(place)s")) % {"place": place}
    return str(CLUSTER_TITLE[_children_word(school)]) % {
        "place": class_name or name,
        "n": alert.child_count,
        "symptoms": _symptoms_phrase(alert.symptom_group),
        "days": days or (alert.window_end - alert.window_start).days + 1,
    }


def _notify_raised(raised: list[tuple[ClusterAlert, R.Threshold]], schools: dict) -> None:
    """One message per new alert to the school's health side and the health centre."""
    if not raised:
        return
    recipients = health_recipients({a.school_id for a, _t in raised})
    class_names = dict(
        SchoolClass.objects.filter(
            pk__in={a.school_class_id for a, _t in raised if a.school_class_id}
        ).values_list("pk", "name")
    )
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for alert, threshold in raised:
            school = schools[alert.school_id]
            class_name = class_names.get(alert.school_class_id, "")
            messages.append(
                {
                    "organizations": [alert.school_id],
                    "event_type": CLUSTER_EVENT,
                    "title": alert_title(alert, school, class_name, days=threshold.window_days),
                    "body": str(CLUSTER_BODY[alert.kind])
                    % {
                        "school": school.short_name or school.name,
                        "min": threshold.min_children,
                        "days": threshold.window_days,
                    },
                    "payload": _payload(alert),
                    "recipients": recipients.get(alert.school_id, []),
                    "dedupe_key": f"{CLUSTER_EVENT}:{alert.pk}",
                }
            )
    notify_send_many(messages)


def _publish_raised(alert: ClusterAlert, school) -> None:
    """Tell the dashboards of the school's town and county, after commit: the alert's id,
    school, rule and count, never a child's name. Not the school's or the police's groups
    (police never see health data; the school's health side is told by `_notify_raised`)."""
    groups = [f"county.{school.region_id}"]
    if school.town_id:
        groups.append(f"town.{school.town_id}")
    with translation.override(settings.LANGUAGE_CODE):
        label = str(RuleKind(alert.kind).label) if alert.kind in RuleKind.values else alert.kind
    publish_on_commit(
        groups,
        LIVE_EVENT,
        {
            "alert_id": alert.pk,
            "school_id": alert.school_id,
            "kind": alert.kind,
            "kind_label": label,
            "child_count": alert.child_count,
        },
    )


def _payload(alert: ClusterAlert) -> dict:
    return {
        "url": reverse("health:alert", args=[alert.pk]),
        "alert_id": alert.pk,
        "school_id": alert.school_id,
        "kind": alert.kind,
        "child_count": alert.child_count,
    }


# ------------------------------------------------------------------ notifiable disease


def alert_for_case(case):
    """A suspected notifiable disease alerts at once (called on commit by the case area):
    an alert of kind "notifiable" keyed by the case, with the child, linked to the case,
    told to `health_recipients` (dedupe per alert). Nothing when the case is not
    notifiable or the county switched the rule off; the same case never alerts twice.
    Never raises (logged): the case is recorded whatever happens here."""
    try:
        return _alert_for_case(case)
    except Exception:  # noqa: BLE001 - the case report must not fail on its alert
        logger.exception("notifiable alert of case %s failed", getattr(case, "pk", case))
        return None


def _alert_for_case(case) -> ClusterAlert | None:
    case = (
        HealthCase.objects.select_related("school", "school_class")
        .filter(pk=getattr(case, "pk", case))
        .first()
    )
    if case is None or not case.notifiable:
        return None
    school = case.school
    rule_set = R.rule_sets([school.region_id]).get(school.region_id, R.DEFAULT_SET)
    if rule_set.notifiable is None:
        return None
    key = f"{RuleKind.NOTIFIABLE}:case:{case.pk}"
    existing = ClusterAlert.objects.filter(key=key).order_by("-raised_at").first()
    if existing is not None:
        return existing
    groups = {SYMPTOM_GROUPS.get(s, SymptomGroup.OTHER) for s in case.symptoms or []}
    reported = timezone.localdate(case.reported_at) if case.reported_at else case.onset_date
    try:
        with transaction.atomic():
            alert = ClusterAlert.objects.create(
                school=school,
                school_class=case.school_class,
                rule=rule_set.notifiable.rule,
                kind=RuleKind.NOTIFIABLE,
                symptom_group=groups.pop() if len(groups) == 1 else SymptomGroup.ANY,
                key=key,
                window_start=min(case.onset_date, reported),
                window_end=max(case.onset_date, reported),
                child_count=1,
                case=case,
                raised_at=timezone.now(),
            )
            alert.children.add(case.child_id)
            audit_create(actor=None, obj=alert)
            with translation.override(settings.LANGUAGE_CODE):
                title = alert_title(alert, school, case.school_class.name)
                if case.suspected_disease:
                    title += str(_(" (%(disease)s)")) % {"disease": case.suspected_disease}
                body = str(
                    _(
                        "A suspected notifiable disease was reported; the procedure of §3 4–10 "
                        "applies. See the case and record the handling on the alert page."
                    )
                )
            notify_send(
                organizations=[school.pk],
                event_type=NOTIFIABLE_EVENT,
                title=title,
                body=body,
                payload={**_payload(alert), "case_id": case.pk},
                recipients=health_recipients([school.pk])[school.pk],
                dedupe_key=f"{NOTIFIABLE_EVENT}:{alert.pk}",
            )
            _publish_raised(alert, school)
    except IntegrityError:
        return ClusterAlert.objects.filter(key=key).order_by("-raised_at").first()
    return alert


# ------------------------------------------------------------------ handling


def require_manager(actor, alert: ClusterAlert) -> None:
    """403 unless the actor handles the health records of the alert's school."""
    require(actor, Action.MANAGE_HEALTH, alert.school_id)


def _alert_for_update(actor, alert_id) -> ClusterAlert:
    try:
        alert_id = int(alert_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 1 <= alert_id <= MAX_ID:
        raise Http404
    alert = (
        ClusterAlert.objects.visible_to(actor, Action.VIEW_HEALTH)
        .select_for_update()
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise Http404
    require_manager(actor, alert)
    return alert


@transaction.atomic
def cluster_alert_close(*, actor, alert_id, note) -> ClusterAlert:
    """Close an open alert with the handling note (MANAGE_HEALTH at its school)."""
    alert = _alert_for_update(actor, alert_id)
    if alert.status != AlertStatus.OPEN:
        raise AlertConflict(_("This alert is closed already."))
    errors = v.FieldErrors()
    text = errors.run("note", v.clean_text, note, max_length=NOTE_MAX, required=True)
    errors.raise_if_any()
    before = snapshot(alert)
    alert.status = AlertStatus.CLOSED
    alert.closed_at = timezone.now()
    alert.closed_by = acting_user(actor)
    alert.note = text
    alert.save(update_fields=["status", "closed_at", "closed_by", "note"])
    audit_update(actor=actor, obj=alert, before=before)
    return alert


@transaction.atomic
def cluster_alert_link_case(*, actor, alert_id, case_id) -> ClusterAlert:
    """Link the alert to a suspected case of its school (None unlinks). MANAGE_HEALTH at
    the alert's school; a case of another school, or out of sight, is a field error."""
    alert = _alert_for_update(actor, alert_id)
    case = None
    if case_id not in (None, ""):
        try:
            number = int(case_id)
        except (TypeError, ValueError):
            number = 0
        case = (
            HealthCase.objects.visible_to(actor, Action.VIEW_HEALTH)
            .filter(pk=number, school_id=alert.school_id)
            .first()
            if 1 <= number <= MAX_ID
            else None
        )
        if case is None:
            raise ValidationError(
                {"case_id": [_("Choose a suspected case of the alert's school.")]}
            )
    before = snapshot(alert)
    alert.case = case
    alert.save(update_fields=["case"])
    audit_update(actor=actor, obj=alert, before=before)
    return alert
