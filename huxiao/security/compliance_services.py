"""Writes of compliance (issue 7 item 4; ADR 0028 "Compliance"): a county's rule set and
re-evaluation on request.

- `rules_update` switches rules on or off and sets their parameters (county-level offices
  holding MANAGE_SECURITY_RULES, for their own counties only — a keeper of several names
  the county, else the first is meant; another county is 404; a town-level office is
  refused with 403). Every value is checked first, every problem reported by field, and nothing is
  written unless all are good. Each changed rule leaves its audit row; after the commit the
  whole county is evaluated again and the number of schools evaluated is reported back.
- `compliance_reevaluate` evaluates one school now (its MANAGE_SECURITY members or the
  county's rule keepers). The evaluation itself is a computed cache and is not audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_update, snapshot
from huxiao.core.roles import SCHOOL_KINDS, Action, role_allows
from huxiao.core.scoping import can, memberships_of, visible_school_ids
from huxiao.orgs.models import Organization, Region
from huxiao.security import compliance
from huxiao.security import rules as R
from huxiao.security.models import ComplianceRule

# ------------------------------------------------------------------ who


def rules_manager_regions(actor) -> list[int]:
    """The counties whose rules the actor keeps: county-level offices (no town) where a
    role grants MANAGE_SECURITY_RULES."""
    regions = []
    for m in memberships_of(actor):
        org = m.organization
        if (
            org.is_active
            and org.is_county_level
            and role_allows(m.role, Action.MANAGE_SECURITY_RULES, county_level=True)
            and org.region_id not in regions
        ):
            regions.append(org.region_id)
    return regions


def require_rules_manager(actor, region_id: int | None = None) -> Region:
    """The county the actor keeps the rules of (`region_id` among theirs, or their first);
    403 for anyone who keeps none, town-level offices included; 404 for a county that is
    not theirs (like the equipment list)."""
    regions = rules_manager_regions(actor)
    if not regions:
        raise PermissionDenied(_("Only the county's offices keep the compliance rules."))
    if region_id is not None and region_id not in regions:
        raise Http404
    return Region.objects.get(pk=region_id if region_id is not None else regions[0])


def rules_manager_counties(actor) -> list[Region]:
    """The counties whose rules the actor keeps, in the order of their memberships (for the
    county switcher of the rules page)."""
    ids = rules_manager_regions(actor)
    by_id = Region.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


# ------------------------------------------------------------------ the rule set


@dataclass
class RulesSaved:
    """What `rules_update` did: the rules changed and, once the commit has run the
    evaluation, how many schools were evaluated (None while it waits for the commit)."""

    region: Region
    changed: list[ComplianceRule] = field(default_factory=list)
    evaluated: int | None = None


def _clean_change(key: str, change, current: dict, errors: dict) -> dict | None:
    if not isinstance(change, dict):
        errors.setdefault(key, []).append(_("Give the rule's changes as an object."))
        return None
    unknown = set(change) - {"enabled", "params"}
    if unknown:
        errors.setdefault(key, []).append(_("Only “enabled” and “params” can change."))
        return None
    cleaned = {}
    if "enabled" in change:
        if not isinstance(change["enabled"], bool):
            errors.setdefault(f"{key}__enabled", []).append(_("Choose yes or no."))
        else:
            cleaned["enabled"] = change["enabled"]
    if "params" in change:
        given = change["params"]
        # Parameters not given keep their value; the result is checked as a whole.
        raw = {**current, **given} if isinstance(given, dict) else given
        try:
            cleaned["params"] = R.clean_params(key, raw)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(f"{key}__{name}", []).extend(messages)
    return cleaned


def rules_update(*, actor, region: Region | int | None = None, changes: dict) -> RulesSaved:
    """Change the county's rules: `changes` maps rule keys to {"enabled": bool, "params":
    {name: number}} (the parameters given; the others keep their value).
    Errors are keyed "<rule>__<param>" / "<rule>__enabled" / "<rule>"; nothing is written
    unless every change is good."""
    region_id = region.pk if isinstance(region, Region) else region
    county = require_rules_manager(actor, region_id)
    if not isinstance(changes, dict):
        raise ValidationError({"__all__": [_("Nothing to change.")]})
    current = {r.key: R.effective_params(r.key, r.params) for r in R.ensure_rules(county)}
    errors: dict[str, list] = {}
    cleaned = {}
    for key, change in changes.items():
        if key not in R.RULES:
            errors.setdefault(str(key)[:50], []).append(_("Unknown rule."))
            continue
        value = _clean_change(key, change, current.get(key, {}), errors)
        if value is not None:
            cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    saved = RulesSaved(region=county)
    with transaction.atomic():
        rows = {
            r.key: r
            for r in ComplianceRule.objects.select_for_update()
            .filter(region=county, key__in=list(cleaned))
            .order_by("pk")
        }
        for key, change in cleaned.items():
            rule = rows[key]
            before = snapshot(rule)
            if "enabled" in change:
                rule.enabled = change["enabled"]
            if "params" in change:
                # Only what differs from the defaults is kept: a later change of a default
                # reaches the counties that never set it.
                defaults = R.RULES[key].default_params
                rule.params = {k: v for k, v in change["params"].items() if defaults.get(k) != v}
            if snapshot(rule) == before:
                continue
            rule.updated_by = actor if getattr(actor, "pk", None) else None
            rule.save()
            audit_update(actor=actor, obj=rule, before=before)
            saved.changed.append(rule)
        if saved.changed:

            def evaluate():
                saved.evaluated = compliance.evaluate_region(county.pk)

            transaction.on_commit(evaluate)
    if not saved.changed:
        saved.evaluated = 0
    return saved


def rule_list(*, actor, region_id: int | None = None) -> tuple[Region, list[ComplianceRule]]:
    """The county's rule set in rule order (created with the defaults the first time)."""
    county = require_rules_manager(actor, region_id)
    return county, R.ensure_rules(county)


def rule_get(*, actor, key: str, region_id: int | None = None) -> ComplianceRule:
    county = require_rules_manager(actor, region_id)
    if key not in R.RULES:
        raise Http404
    return next(r for r in R.ensure_rules(county) if r.key == key)


# ------------------------------------------------------------------ re-evaluation


def may_reevaluate(actor, school: Organization) -> bool:
    return can(actor, Action.MANAGE_SECURITY, school.pk) or (
        school.region_id in rules_manager_regions(actor)
    )


def compliance_reevaluate(*, actor, school_id: int, now=None) -> int:
    """Evaluate one school now. Out of the actor's view: 404; seen but not theirs to
    manage: 403."""
    if not 0 < school_id <= 2**63 - 1 or school_id not in visible_school_ids(actor, Action.VIEW):
        raise Http404
    school = Organization.objects.filter(pk=school_id, kind__in=SCHOOL_KINDS).first()
    if school is None:
        raise Http404
    if not may_reevaluate(actor, school):
        raise PermissionDenied(_("Your role does not allow this action."))
    return compliance.evaluate_schools([school.pk], now=now)


def compliance_evaluate_all(*, now=None) -> dict[int, int]:
    """The nightly job: every county with an active school, evaluated again (patrol rounds
    of the day just ended, certificates that expired). Returns {county id: schools}."""
    regions = sorted(
        set(
            Organization.objects.filter(kind__in=SCHOOL_KINDS, is_active=True)
            .values_list("region_id", flat=True)
            .distinct()
        )
    )
    return {region_id: compliance.evaluate_region(region_id, now=now) for region_id in regions}
