"""Writes of activity compliance (issue 8 item 3; ADR 0030 "Compliance"): the county's terms
and activity rules, and the daily reminders and flags.

- **Keepers** are the county-level offices (no town) whose role grants
  MANAGE_ACTIVITY_RULES, for their own counties only: anyone else gets 403, a keeper naming
  another county 404 (like the security rules, ADR 0028).
- **Terms** (`term_create` / `term_update` / `term_delete`): a name, first and last day, the
  holidays inside; every problem reported by field, nothing written unless all are good;
  each change audited.
- **Rules** (`rules_update`): on/off and parameters within each kind's bounds; audited.
  Compliance is computed on the fly, so a change shows on the next page view.
- **Reminders and flags** (`activities_remind(now=)`, daily 07:30): see its docstring.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_delete, audit_update, snapshot
from huxiao.core.roles import Action, Role, role_allows
from huxiao.core.scoping import memberships_of
from huxiao.drills import compliance
from huxiao.drills import rules as R
from huxiao.drills import terms as T
from huxiao.drills.choices import FlagState
from huxiao.drills.models import ActivityFlag, ActivityRule, Term
from huxiao.orgs.models import Membership, Region
from huxiao.people import validation as v
from huxiao.security.dates import not_too_early

# ------------------------------------------------------------------ who keeps the rules


def keeper_regions(actor) -> list[int]:
    """The counties whose terms and rules the actor keeps (county-level offices whose role
    grants MANAGE_ACTIVITY_RULES), in membership order, each once."""
    regions: list[int] = []
    for m in memberships_of(actor):
        org = m.organization
        keeps = org.is_active and org.is_county_level
        if keeps and role_allows(m.role, Action.MANAGE_ACTIVITY_RULES, county_level=True):
            regions += [] if org.region_id in regions else [org.region_id]
    return regions


def require_keeper(actor, region_id: int | None = None) -> Region:
    """The county (`region_id` among the actor's, or their first); 403 for anyone who keeps
    none, town-level offices included; 404 for a county that is not theirs."""
    regions = keeper_regions(actor)
    if not regions:
        raise PermissionDenied(_("Only the county's offices keep the terms and activity rules."))
    if region_id is not None and region_id not in regions:
        raise Http404
    return Region.objects.get(pk=region_id if region_id is not None else regions[0])


def keeper_counties(actor) -> list[Region]:
    ids = keeper_regions(actor)
    by_id = Region.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


# ------------------------------------------------------------------ terms

MAX_BREAKS = 20
MAX_TERM_DAYS = 366
YEARS_AHEAD = 5


def _date(value, today: dt.date) -> dt.date | None:
    day = not_too_early(v.clean_date(value, required=True))
    if day.year > today.year + YEARS_AHEAD:
        raise ValidationError(
            _("The date cannot be more than %(n)s years ahead.") % {"n": YEARS_AHEAD}
        )
    return day


def _pair(item) -> tuple:
    if isinstance(item, dict):
        return item.get("first"), item.get("last")
    if isinstance(item, list | tuple) and len(item) == 2:
        return item[0], item[1]
    raise ValidationError(_("Give each holiday as its first and last day."))


def clean_breaks(raw, start: dt.date | None, end: dt.date | None, today: dt.date) -> list:
    """Holidays as [[first, last], ...] (ISO), each inside the term, none overlapping."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list | tuple):
        raise ValidationError(_("Give the holidays as a list of first and last days."))
    if len(raw) > MAX_BREAKS:
        raise ValidationError(_("At most %(n)s holidays in a term.") % {"n": MAX_BREAKS})
    pairs = []
    for item in raw:
        first, last = (_date(x, today) for x in _pair(item))
        if last < first:
            raise ValidationError(
                _("Holiday %(first)s to %(last)s ends before it begins.")
                % {"first": first, "last": last}
            )
        if start and end and not (start <= first and last <= end):
            raise ValidationError(
                _("Holiday %(first)s to %(last)s is not inside the term.")
                % {"first": first, "last": last}
            )
        pairs.append((first, last))
    pairs.sort()
    for (a1, b1), (a2, _b2) in zip(pairs, pairs[1:], strict=False):
        if a2 <= b1:
            raise ValidationError(
                _("Holidays %(a)s and %(b)s overlap.") % {"a": a1.isoformat(), "b": a2.isoformat()}
            )
    return [[a.isoformat(), b.isoformat()] for a, b in pairs]


def clean_term(values: dict, *, region_id: int, term: Term | None = None, today=None) -> dict:
    """The term's fields checked: every problem at once, keyed by field."""
    today = today or timezone.localdate()
    errors = v.FieldErrors()
    name = errors.run("name", v.clean_text, values.get("name"), max_length=50, required=True)
    start = errors.run("starts_on", _date, values.get("starts_on"), today)
    end = errors.run("ends_on", _date, values.get("ends_on"), today)
    if start and end and end <= start:
        errors.add("ends_on", _("The term must end after it starts."))
    elif start and end and (end - start).days > MAX_TERM_DAYS:
        errors.add("ends_on", _("A term lasts at most a year."))
    breaks = errors.run("breaks", clean_breaks, values.get("breaks"), start, end, today)
    if start and end and "ends_on" not in errors.errors:
        clash = (
            Term.objects.filter(region_id=region_id, starts_on__lte=end, ends_on__gte=start)
            .exclude(pk=getattr(term, "pk", None))
            .first()
        )
        if clash is not None:
            errors.add(
                "starts_on",
                _("Overlaps the county's term %(name)s (%(start)s to %(end)s).")
                % {"name": clash.name, "start": clash.starts_on, "end": clash.ends_on},
            )
    errors.raise_if_any()
    return {"name": name, "starts_on": start, "ends_on": end, "breaks": breaks}


def term_list(*, actor, region_id: int | None = None) -> tuple[Region, list[Term]]:
    county = require_keeper(actor, region_id)
    return county, list(Term.objects.filter(region=county).order_by("-starts_on"))


def term_get(*, actor, term_id: int) -> Term:
    """A term of a county the actor keeps; anything else 404 (403 for non-keepers)."""
    regions = keeper_regions(actor)
    if not regions:
        raise PermissionDenied(_("Only the county's offices keep the terms and activity rules."))
    term = Term.objects.filter(pk=term_id, region_id__in=regions).first() if term_id else None
    if term is None:
        raise Http404
    return term


@transaction.atomic
def term_create(*, actor, region: Region | int | None = None, **values) -> Term:
    county = require_keeper(actor, region.pk if isinstance(region, Region) else region)
    cleaned = clean_term(values, region_id=county.pk)
    term = Term.objects.create(region=county, updated_by=_user(actor), **cleaned)
    audit_create(actor=actor, obj=term)
    return term


@transaction.atomic
def term_update(*, actor, term: Term, **values) -> Term:
    term = term_get(actor=actor, term_id=term.pk)
    current = {f: getattr(term, f) for f in ("name", "starts_on", "ends_on", "breaks")}
    cleaned = clean_term({**current, **values}, region_id=term.region_id, term=term)
    before = snapshot(term)
    for name, value in cleaned.items():
        setattr(term, name, value)
    if snapshot(term) != before:
        term.updated_by = _user(actor)
        term.save()
        audit_update(actor=actor, obj=term, before=before)
    return term


@transaction.atomic
def term_delete(*, actor, term: Term) -> None:
    term = term_get(actor=actor, term_id=term.pk)
    audit_delete(actor=actor, obj=term)
    term.delete()


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


# ------------------------------------------------------------------ the rule set


def rule_list(*, actor, region_id: int | None = None) -> tuple[Region, list[ActivityRule]]:
    county = require_keeper(actor, region_id)
    return county, R.ensure_rules(county)


def rule_get(*, actor, key: str, region_id: int | None = None) -> ActivityRule:
    county, rules = rule_list(actor=actor, region_id=region_id)
    found = next((r for r in rules if r.key == key), None)
    if found is None:
        raise Http404
    return found


def _clean_change(key: str, change, current: dict, errors: v.FieldErrors) -> dict:
    if not isinstance(change, dict) or set(change) - {"enabled", "params"}:
        errors.add(key, _("Give only “enabled” and “params” for a rule."))
        return {}
    cleaned = {}
    if "enabled" in change:
        if isinstance(change["enabled"], bool):
            cleaned["enabled"] = change["enabled"]
        else:
            errors.add(f"{key}__enabled", _("Choose yes or no."))
    if "params" in change:
        given = change["params"]
        try:
            # Parameters not given keep their value.
            raw = {**current, **given} if isinstance(given, dict) else given
            cleaned["params"] = R.clean_params(key, raw)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for text in messages:
                    errors.add(f"{key}__{name}", text)
    return cleaned


@transaction.atomic
def rules_update(*, actor, region: Region | int | None = None, changes) -> list[ActivityRule]:
    """Change the county's rules: `changes` maps rule keys to {"enabled": bool, "params":
    {name: number}}. Errors keyed "<rule>__<param>", "<rule>__enabled" or "<rule>";
    nothing is written unless every change is good. Returns the rules changed."""
    county = require_keeper(actor, region.pk if isinstance(region, Region) else region)
    if not isinstance(changes, dict) or not changes:
        raise ValidationError({"__all__": [_("Nothing to change.")]})
    rows = {r.key: r for r in R.ensure_rules(county)}
    errors = v.FieldErrors()
    cleaned = {}
    for key, change in changes.items():
        if key not in rows:
            errors.add(str(key)[:50], _("Unknown rule."))
            continue
        cleaned[key] = _clean_change(key, change, R.effective_params(key, rows[key].params), errors)
    errors.raise_if_any()
    changed = []
    locked = ActivityRule.objects.select_for_update().filter(pk__in=[r.pk for r in rows.values()])
    for rule in locked.order_by("pk"):
        change = cleaned.get(rule.key)
        if not change:
            continue
        before = snapshot(rule)
        rule.enabled = change.get("enabled", rule.enabled)
        if "params" in change:
            # Only what differs from the defaults is kept: a later change of a default
            # reaches the counties that never set it.
            defaults = R.RULES[rule.key].default_params
            rule.params = {k: x for k, x in change["params"].items() if defaults.get(k) != x}
        if snapshot(rule) != before:
            rule.updated_by = _user(actor)
            rule.save()
            audit_update(actor=actor, obj=rule, before=before)
            changed.append(rule)
    return changed


# ------------------------------------------------------------------ reminders and flags

REMIND_EVENT = "drills.reminder"
FLAG_EVENT = "drills.flag"
SCHOOL_ROLES = (Role.PRINCIPAL, Role.SECURITY_OFFICER)
# A week is flagged on the days after it ended; one that ended longer ago is left alone.
FLAG_WEEK_WITHIN = dt.timedelta(days=14)


@dataclass
class Notice:
    """One reminder or flag to raise for a school."""

    school_id: int
    rule: str
    period: str
    state: str
    missing: list[dict] = field(default_factory=list)


def platform_render(items) -> list[str]:
    """Stored messages in the platform's language, whoever triggered the job."""
    with translation.override(settings.LANGUAGE_CODE):
        return [R.render_message(m) for m in items]


def _weekly_notices(result, verdict: dict, params: dict, today: dt.date) -> list[Notice]:
    weeks = [m for m in T.school_weeks(result.term) if m + compliance.WEEK < today]
    out = []
    due = [m for m in verdict["missing"] if m.get("key") in R.STILL_DUE]
    if due and today.isoweekday() >= int(params["remind_weekday"]):
        monday = today - dt.timedelta(days=today.weekday())
        week = T.week_key(monday)
        out.append(Notice(result.school_id, "weekly_drill", week, FlagState.REMINDED, due))
    if weeks and today - (weeks[-1] + compliance.WEEK) <= FLAG_WEEK_WITHIN:
        last = weeks[-1].isoformat()
        short = [
            m
            for m in verdict["missing"]
            if m.get("key") == "week_short" and m.get("params", {}).get("monday") == last
        ]
        if short:
            week = T.week_key(weeks[-1])
            out.append(Notice(result.school_id, "weekly_drill", week, FlagState.FLAGGED, short))
    return out


def _term_notice(result, verdict: dict, params: dict, today: dt.date) -> Notice | None:
    term = result.term
    state = None
    if verdict["verdict"] == R.V.FAIL:
        state = FlagState.FLAGGED
    elif verdict["verdict"] == R.V.DUE and today >= term.ends_on - dt.timedelta(
        days=int(params["remind_days"])
    ):
        state = FlagState.REMINDED
    if state is None:
        return None
    return Notice(result.school_id, verdict["rule"], T.term_key(term), state, verdict["missing"])


def notices_for(results, today: dt.date) -> list[Notice]:
    """What each school is to be reminded of (due soon) or flagged for (deadline passed)."""
    sets = R.rule_sets({r.region_id for r in results.values()})
    out = []
    for result in results.values():
        if result.term is None:
            continue
        params = dict(sets.get(result.region_id, []))
        for verdict in result.verdicts:
            key = verdict["rule"]
            if key == "weekly_drill":
                out += _weekly_notices(result, verdict, params[key], today)
            elif key in R.PER_TERM_RULES:
                notice = _term_notice(result, verdict, params[key], today)
                out += [notice] if notice else []
    return out


def _recipients(org_ids) -> dict[int, set[int]]:
    """Organization → its principal and security officers (a school) or its supervisors
    (an education office)."""
    people: dict[int, set[int]] = {}
    for org_id, user_id in Membership.objects.filter(
        organization_id__in=list(org_ids),
        role__in=[*SCHOOL_ROLES, Role.EDUCATION_SUPERVISOR],
        is_active=True,
        user__is_active=True,
    ).values_list("organization_id", "user_id"):
        people.setdefault(org_id, set()).add(user_id)
    return people


FLAG_TITLE = _("%(school)s: safety activities missed")
REMIND_TITLE = _("%(school)s: safety activities due soon")


def _message(notices: list[Notice], school_name: str, flagged: bool) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            f"{R.RULES[n.rule].label}: {R.render_message(m)}" for n in notices for m in n.missing
        ]
        title = str(FLAG_TITLE if flagged else REMIND_TITLE) % {"school": school_name}
    return title, "\n".join(lines)


def activities_remind(*, now: dt.datetime | None = None) -> dict:
    """The daily job (07:30 local). For every active school, against its county's term and
    rules in force:

    - **reminded** (the principal and security officers): the running week has no held drill
      yet from the rule's weekday on (Thursday by default); a per-term rule still unmet
      within its `remind_days` (14) of the term's end;
    - **flagged** (the same people and the supervisors of the school's education office):
      the last completed school week ended without its drill (within 14 days of its end);
      a per-term rule unmet when the term ended.

    Each at most once per school, rule, period and state (`ActivityFlag`); one message per
    school and state listing the new items; a second run sends nothing. Returns
    {"reminded": n, "flagged": n, "schools": [ids told]}."""
    from huxiao.notify.services import notify_send_many
    from huxiao.orgs.models import Organization

    now = now or timezone.now()
    today = timezone.localdate(now)
    schools = {
        pk: (region_id, name, office)
        for pk, region_id, name, office in Organization.objects.filter(
            kind__in=compliance.SCHOOL_KINDS, is_active=True
        ).values_list("pk", "region_id", "name", "education_office_id")
    }
    rows = [(pk, region_id) for pk, (region_id, _n, _o) in schools.items()]
    terms = T.current_terms({r for _pk, r in rows}, today)
    notices = notices_for(compliance.evaluate_terms(rows, terms, today), today)
    seen = set(
        ActivityFlag.objects.filter(
            school_id__in={n.school_id for n in notices}, period__in={n.period for n in notices}
        ).values_list("school_id", "rule", "period", "state")
    )
    fresh = [n for n in notices if (n.school_id, n.rule, n.period, n.state) not in seen]
    if not fresh:
        return {"reminded": 0, "flagged": 0, "schools": []}
    told = {n.school_id for n in fresh}
    people = _recipients(told | {schools[pk][2] for pk in told if schools[pk][2]})
    grouped: dict[tuple[int, str], list[Notice]] = {}
    for n in fresh:
        grouped.setdefault((n.school_id, n.state), []).append(n)
    messages = []
    for (school_id, state), items in sorted(grouped.items()):
        _region, name, office = schools[school_id]
        flagged = state == FlagState.FLAGGED
        title, body = _message(items, name, flagged)
        orgs = [school_id, office] if flagged and office else [school_id]
        users = set(people.get(school_id, ())) | (set(people.get(office, ())) if flagged else set())
        stamp = "|".join(sorted(f"{n.rule}@{n.period}" for n in items))
        messages.append(
            {
                "organizations": orgs,
                "event_type": FLAG_EVENT if flagged else REMIND_EVENT,
                "title": title,
                "body": body,
                "payload": {"school_id": school_id, "items": stamp},
                "recipients": sorted(users),
                "dedupe_key": f"{FLAG_EVENT if flagged else REMIND_EVENT}:{school_id}:{stamp}",
            }
        )
    with transaction.atomic():
        ActivityFlag.objects.bulk_create(
            [
                ActivityFlag(
                    school_id=n.school_id,
                    rule=n.rule,
                    period=n.period,
                    state=n.state,
                    missing="; ".join(platform_render(n.missing))[:500],
                    at=now,
                )
                for n in fresh
            ],
            ignore_conflicts=True,
        )
        notify_send_many(messages)
    return {
        "reminded": sum(n.state == FlagState.REMINDED for n in fresh),
        "flagged": sum(n.state == FlagState.FLAGGED for n in fresh),
        "schools": sorted({n.school_id for n in fresh}),
    }
