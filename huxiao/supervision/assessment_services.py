"""Writes of assessment and ranking (issue 6 item 5, ADR 0027 "Assessment and ranking"):
schemes and their indicators, manual scores, computing and publishing a run, and the
one-vote veto (一票否决).

Scoring rule (per school, per run):
- each indicator gives a percentage 0–100 or "no data" (indicators.py);
- total = Σ weight × % / 100 over the indicators **with data**; max_score = Σ their weights;
- the score shown is total / max_score × 100 (two places): no data counts neither as zero
  nor as full marks, it drops out of both sides; a school with no data at all has no score,
  no rating and no rank;
- rating from the scheme's thresholds; an active veto overlapping the period caps it at
  FAIL, marks the school vetoed and ranks it after every school that is not;
- ties share a rank (1, 2, 2, 4), compared on the two-place score;
- a town's score is the mean of its scored schools' scores (vetoed ones included: the veto
  caps a rating, it does not change a score); towns are ranked the same way.

Every write is atomic and audited; refusals of the state (a published run, a scheme with
published runs, a revoked veto) are `AssessmentRefused` (409 on pages and in the API), bad
input a ValidationError with field messages (400), no right PermissionDenied (403), out of
reach Http404.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.audit.services import (
    audit_create,
    audit_delete,
    audit_record,
    audit_update,
    build_event,
    snapshot,
)
from huxiao.core.names import acting_user
from huxiao.core.roles import Action, Role, role_allows
from huxiao.core.scoping import can, memberships_of, school_filter_for_org
from huxiao.orgs.models import Membership, Organization
from huxiao.people import validation as v
from huxiao.supervision import assessment_selectors as sel
from huxiao.supervision import indicators as registry
from huxiao.supervision.choices import PeriodKind, Rating, RunStatus
from huxiao.supervision.models import (
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    Indicator,
    ManualScore,
    TownResult,
    Veto,
)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
MAX_INDICATORS = 30
EARLIEST = dt.date(2000, 1, 1)
BATCH = 500
DEFAULT_SCHEME_NAME = "校园安全工作月度考核（默认方案）"
# The shipped default scheme (ADR 0027): content in Chinese, like the shipped checklists.
DEFAULT_INDICATORS = (
    ("检查得分", "inspection_score", "25", {}),
    ("月度自查", "self_checks_held", "5", {}),
    ("隐患按期整改", "hazards_closed_on_time", "15", {}),
    ("逾期隐患", "overdue_hazards", "15", {"per_hazard": 20}),
    ("挂牌督办", "listed_supervision", "5", {"per_listing": 50}),
    ("护学岗到岗", "gate_posts_staffed", "5", {}),
    ("警务室走访（每周≥2次）", "police_visits", "5", {"per_week": 2}),
    ("一键报警响应", "alarm_response", "5", {"seconds": 60}),
    ("专项自查验收", "campaign_acceptance", "5", {}),
    ("演练开展", "drills_held", "10", {}),
    ("人工评分（台账资料）", registry.MANUAL, "5", {}),
)


class AssessmentRefused(ValidationError):
    """A write the state does not allow (published, revoked, switched off): 409."""

    def __init__(self, message):
        super().__init__(message, code="state")


def _message(template, params: dict) -> str:
    """A notification text in the platform's language, whoever triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params


def _label(text) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


# ------------------------------------------------------------------ cleaning


def _clean_decimal(value, *, field_label, minimum=Decimal(0), maximum=HUNDRED) -> Decimal:
    """A number with at most one decimal place within [minimum, maximum]."""
    if isinstance(value, bool) or value in (None, ""):
        raise ValidationError(_("Enter a number."), code="required")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter a number."), code="invalid") from None
    if not number.is_finite() or number < minimum or number > maximum:
        raise ValidationError(
            _("%(field)s must be from %(min)s to %(max)s.")
            % {"field": field_label, "min": minimum, "max": maximum},
            code="range",
        )
    if number != number.quantize(TENTH):
        raise ValidationError(_("At most one decimal place."), code="decimals")
    return number.quantize(TENTH)


def clean_percent(value) -> Decimal:
    return _clean_decimal(value, field_label=_("The score"))


def clean_day(value, *, now=None, field: str = "date") -> dt.date:
    """A date (or YYYY-MM-DD) from 2000-01-01 to today: the period is the one containing it;
    a period in the future cannot be assessed or vetoed."""
    if value in (None, ""):
        raise ValidationError({field: [_("Choose a date in the period.")]})
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            raise ValidationError({field: [_("Enter a date as YYYY-MM-DD.")]}) from None
    today = sel.local_today(now)
    if value > today:
        raise ValidationError({field: [_("The period cannot be in the future.")]})
    if value < EARLIEST:
        raise ValidationError({field: [_("Choose a date from 2000 on.")]})
    return value


def _clean_params(source: registry.IndicatorSource, raw) -> dict:
    """The rule parameters of one indicator: the source's defaults, overlaid with the known
    keys given (numbers within the bounds). Raises ValidationError with one message."""
    if raw in (None, ""):
        raw = {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ValidationError(
                _('Write the parameters as JSON, e.g. {"per_hazard": 20}.')
            ) from None
    if not isinstance(raw, dict):
        raise ValidationError(_('Write the parameters as JSON, e.g. {"per_hazard": 20}.'))
    params = source.default_params
    for key, value in raw.items():
        spec = source.params.get(key)
        if spec is None:
            raise ValidationError(
                _("Unknown parameter “%(key)s” for this source.") % {"key": str(key)[:50]}
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(_("Parameter “%(key)s” must be a number.") % {"key": key})
        # The range first: it also refuses infinities and NaN before int() sees them.
        if not spec.minimum <= value <= spec.maximum:
            raise ValidationError(
                _("Parameter “%(key)s” must be from %(min)s to %(max)s.")
                % {"key": key, "min": spec.minimum, "max": spec.maximum}
            )
        if spec.integer and value != int(value):
            raise ValidationError(_("Parameter “%(key)s” must be a whole number.") % {"key": key})
        params[key] = int(value) if spec.integer else float(value)
    return params


def _clean_indicators(raw_rows) -> list[dict]:
    """Indicators as dicts {id?, name, source, weight, params}: 1–30, known sources, weights
    above 0 with one decimal place, summing to exactly 100. Errors name the row."""
    errors = v.FieldErrors()
    rows = list(raw_rows or [])
    if not rows:
        errors.add("indicators", _("Add at least one indicator."))
        errors.raise_if_any()
    if len(rows) > MAX_INDICATORS:
        errors.add("indicators", _("At most %(n)s indicators.") % {"n": MAX_INDICATORS})
        errors.raise_if_any()
    cleaned, total = [], Decimal(0)
    for n, row in enumerate(rows, start=1):
        row_errors = v.FieldErrors()
        source_key = str(row.get("source") or "").strip()
        source = registry.get_source(source_key)
        if source is None:
            row_errors.add("source", _("Unknown source “%(key)s”.") % {"key": source_key[:50]})
        name = row_errors.run("name", v.clean_text, row.get("name"), max_length=200)
        if not name and source is not None:
            name = _label(source.label)
        elif not name:
            row_errors.add("name", _("Name the indicator."))
        weight = row_errors.run(
            "weight", _clean_decimal, row.get("weight"), field_label=_("The weight")
        )
        if weight is not None and weight <= 0:
            row_errors.add("weight", _("The weight must be more than 0."))
        params = {}
        if source is not None:
            params = row_errors.run("params", _clean_params, source, row.get("params")) or {}
        for messages in row_errors.errors.values():
            for message in messages:
                errors.add(
                    "indicators",
                    _("Indicator %(n)s: %(message)s") % {"n": n, "message": message},
                )
        if weight is not None:
            total += weight
        cleaned.append(
            {
                "id": row.get("id"),
                "name": name,
                "source": source_key,
                "weight": weight,
                "params": params,
                "order": n,
            }
        )
    errors.raise_if_any()
    if total != HUNDRED:
        errors.add(
            "indicators",
            _("The weights add up to %(total)s; they must add up to 100.") % {"total": total},
        )
    errors.raise_if_any()
    return cleaned


def _clean_scheme_fields(errors: v.FieldErrors, fields: dict) -> dict:
    out = {}
    out["name"] = errors.run(
        "name", v.clean_text, fields.get("name"), max_length=200, required=True
    )
    out["description"] = errors.run(
        "description", v.clean_text, fields.get("description"), max_length=4000
    )
    kind = fields.get("period_kind") or PeriodKind.MONTH
    if kind not in PeriodKind.values:
        errors.add("period_kind", _("Choose month, quarter or year."))
    out["period_kind"] = kind
    for key, label in (
        ("excellent_from", _("Excellent from")),
        ("good_from", _("Good from")),
        ("pass_from", _("Pass from")),
    ):
        default = AssessmentScheme._meta.get_field(key).default
        value = fields.get(key)
        out[key] = errors.run(
            key, _clean_decimal, default if value in (None, "") else value, field_label=label
        )
    if all(out[k] is not None for k in ("excellent_from", "good_from", "pass_from")) and not (
        out["pass_from"] <= out["good_from"] <= out["excellent_from"]
    ):
        errors.add("pass_from", _("The thresholds must rise: pass ≤ good ≤ excellent."))
    out["is_active"] = bool(fields.get("is_active", True))
    return out


# ------------------------------------------------------------------ schemes


def _owner_office(actor, owner) -> Organization:
    offices = sel.assessor_offices(actor)
    if not offices:
        raise PermissionDenied(_("Your role does not allow this action."))
    if owner is None:
        return offices[0]
    owner_id = owner if isinstance(owner, int) else owner.pk
    for office in offices:
        if office.pk == owner_id:
            return office
    raise ValidationError({"owner": [_("Choose one of your assessing offices.")]})


def _lock_scheme(actor, scheme: AssessmentScheme) -> AssessmentScheme:
    """The scheme's row, locked, if the actor may read it (404) and manage it (403)."""
    sel.scheme_get(actor=actor, scheme_id=scheme.pk)
    locked = AssessmentScheme.objects.select_for_update().select_related("owner").get(pk=scheme.pk)
    if not sel.may_manage(actor, locked):
        raise PermissionDenied(_("Only the office that owns this scheme may change or compute it."))
    return locked


def _write_indicators(actor, scheme: AssessmentScheme, rows: list[dict]) -> bool:
    """Make the scheme's indicators these rows (matched by id); True if anything changed.
    Removing a manual indicator removes its manual scores with it."""
    existing = {ind.pk: ind for ind in scheme.indicators.all()}
    changed = False
    kept = set()
    for row in rows:
        ind = existing.get(_int_or_none(row.get("id")))
        if ind is None:
            ind = Indicator.objects.create(
                scheme=scheme,
                order=row["order"],
                name=row["name"],
                source=row["source"],
                weight=row["weight"],
                params=row["params"],
            )
            audit_create(actor=actor, obj=ind)
            changed = True
        else:
            kept.add(ind.pk)
            before = snapshot(ind)
            ind.order, ind.name, ind.source = row["order"], row["name"], row["source"]
            ind.weight, ind.params = row["weight"], row["params"]
            ind.save()
            if audit_update(actor=actor, obj=ind, before=before) is not None:
                changed = True
    for pk, ind in existing.items():
        if pk not in kept:
            _audit_manual_scores_deleted(actor, ind)
            audit_delete(actor=actor, obj=ind)
            ind.delete()
            changed = True
    return changed


def _audit_manual_scores_deleted(actor, indicator: Indicator) -> int:
    """One DELETE audit row per manual score the indicator's deletion takes with it (the
    cascade writes none), in bulk; under the school of each score."""
    scores = list(ManualScore.objects.filter(indicator=indicator).order_by("pk"))
    if not scores:
        return 0
    at = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            build_event(
                actor=actor,
                action=AuditAction.DELETE,
                obj=score,
                changes={"before": snapshot(score), "cause": "indicator_removed"},
                at=at,
            )
            for score in scores
        ],
        batch_size=BATCH,
    )
    return len(scores)


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _same_indicators(scheme: AssessmentScheme, rows: list[dict]) -> bool:
    current = [
        (ind.pk, ind.name, ind.source, ind.weight.quantize(TENTH), ind.params)
        for ind in scheme.indicators.order_by("order", "id")
    ]
    given = [
        (_int_or_none(r.get("id")), r["name"], r["source"], r["weight"], r["params"]) for r in rows
    ]
    return current == given


@transaction.atomic
def scheme_create(*, actor, owner=None, indicators, **fields) -> AssessmentScheme:
    """A new scheme of one of the actor's assessing offices (ASSESS there)."""
    office = _owner_office(actor, owner)
    errors = v.FieldErrors()
    data = _clean_scheme_fields(errors, fields)
    rows = errors.run("indicators", _clean_indicators, indicators)
    errors.raise_if_any()
    scheme = AssessmentScheme.objects.create(owner=office, created_by=acting_user(actor), **data)
    audit_create(actor=actor, obj=scheme)
    _write_indicators(actor, scheme, rows)
    return scheme


@transaction.atomic
def scheme_update(*, actor, scheme: AssessmentScheme, indicators=None, **fields):
    """Edit a scheme. Once a run of it is published, its indicators and period can no longer
    change (the published results point at them): copy the scheme instead. Changing the
    indicators of a scheme with only drafts discards the drafts (they are stale)."""
    scheme = _lock_scheme(actor, scheme)
    errors = v.FieldErrors()
    data = _clean_scheme_fields(errors, fields)
    rows = None
    if indicators is not None:
        rows = errors.run("indicators", _clean_indicators, indicators)
    errors.raise_if_any()
    published = sel.has_published_runs(scheme)
    if published and (
        data["period_kind"] != scheme.period_kind
        or (rows is not None and not _same_indicators(scheme, rows))
    ):
        raise AssessmentRefused(
            _(
                "This scheme has published rankings, so its indicators and period can no "
                "longer change. Make a copy and edit the copy."
            )
        )
    before = snapshot(scheme)
    for key, value in data.items():
        setattr(scheme, key, value)
    scheme.save()
    audit_update(actor=actor, obj=scheme, before=before)
    changed = rows is not None and not published and _write_indicators(actor, scheme, rows)
    if changed or before["period_kind"] != scheme.period_kind:
        for run in scheme.runs.filter(status=RunStatus.DRAFT):
            audit_delete(actor=actor, obj=run)
            run.delete()
    return scheme


@transaction.atomic
def scheme_copy(*, actor, scheme: AssessmentScheme, owner=None, name: str = "") -> AssessmentScheme:
    """A copy (same indicators and thresholds) owned by one of the actor's assessing
    offices; the way to change a scheme whose rankings are published."""
    sel.scheme_get(actor=actor, scheme_id=scheme.pk)
    if owner is None and sel.may_manage(actor, scheme):
        owner = scheme.owner_id
    office = _owner_office(actor, owner)
    errors = v.FieldErrors()
    default_name = _message(_("%(name)s (copy)"), {"name": scheme.name})[:200]
    name = errors.run("name", v.clean_text, name or default_name, max_length=200, required=True)
    errors.raise_if_any()
    copy = AssessmentScheme.objects.create(
        name=name,
        description=scheme.description,
        owner=office,
        period_kind=scheme.period_kind,
        excellent_from=scheme.excellent_from,
        good_from=scheme.good_from,
        pass_from=scheme.pass_from,
        is_active=True,
        created_by=acting_user(actor),
    )
    audit_create(actor=actor, obj=copy)
    for ind in scheme.indicators.order_by("order", "id"):
        new = Indicator.objects.create(
            scheme=copy,
            order=ind.order,
            name=ind.name,
            source=ind.source,
            weight=ind.weight,
            params=ind.params,
        )
        audit_create(actor=actor, obj=new)
    return copy


@transaction.atomic
def ensure_default_scheme(owner: Organization, actor=None) -> AssessmentScheme:
    """The shipped default scheme of an office (ADR 0027), created once; idempotent by
    (owner, name). Weights total 100; drills answer "no data" until issue 8."""
    scheme = AssessmentScheme.objects.filter(owner=owner, name=DEFAULT_SCHEME_NAME).first()
    if scheme is not None:
        return scheme
    scheme = AssessmentScheme.objects.create(
        owner=owner,
        name=DEFAULT_SCHEME_NAME,
        description=(
            "依据《护校安园专项行动方案》及长效机制意见第三部分：检查、隐患整改、挂牌督办、"
            "警校联动、报警响应、专项自查、演练与台账资料，按月考核排名；"
            "暂无数据的指标不计入满分。"
        ),
        period_kind=PeriodKind.MONTH,
        created_by=acting_user(actor),
    )
    audit_create(actor=actor, obj=scheme)
    for order, (name, source, weight, params) in enumerate(DEFAULT_INDICATORS, start=1):
        src = registry.get_source(source)
        ind = Indicator.objects.create(
            scheme=scheme,
            order=order,
            name=name,
            source=source,
            weight=Decimal(weight),
            params={**(src.default_params if src else {}), **params},
        )
        audit_create(actor=actor, obj=ind)
    return scheme


# ------------------------------------------------------------------ manual scores


@transaction.atomic
def manual_scores_save(*, actor, scheme: AssessmentScheme, day, entries, now=None) -> int:
    """Save manual scores of one period: `entries` are dicts {indicator_id, school_id,
    percent, note}; a blank percent removes the score (no data). All or nothing: any bad
    entry refuses the whole batch, each error keyed "<indicator_id>-<school_id>".
    Returns the number of scores written or removed."""
    now = now or timezone.now()
    scheme = _lock_scheme(actor, scheme)
    day = clean_day(day, now=now)
    period = sel.period_of(scheme.period_kind, day)
    manual_ids = set(scheme.indicators.filter(source=registry.MANUAL).values_list("pk", flat=True))
    school_ids = set(sel.covered_schools(scheme.owner).values_list("pk", flat=True))
    errors = v.FieldErrors()
    wanted: dict[tuple[int, int], tuple] = {}
    for entry in entries:
        ind_id, school_id = (
            _int_or_none(entry.get("indicator_id")),
            _int_or_none(entry.get("school_id")),
        )
        key = f"{ind_id}-{school_id}"
        if ind_id not in manual_ids:
            errors.add(key, _("This indicator is not scored by hand in this scheme."))
            continue
        if school_id not in school_ids:
            errors.add(key, _("This school is not assessed by this scheme."))
            continue
        raw = entry.get("percent")
        note = errors.run(key, v.clean_text, entry.get("note"), max_length=1000) or ""
        if raw in (None, ""):
            wanted[(ind_id, school_id)] = (None, note)
            continue
        value = errors.run(key, clean_percent, raw)
        if value is not None:
            wanted[(ind_id, school_id)] = (value, note)
    errors.raise_if_any()
    existing = {
        (s.indicator_id, s.school_id): s
        for s in ManualScore.objects.select_for_update().filter(
            indicator_id__in=manual_ids, period_start=period.start
        )
    }
    written = 0
    for (ind_id, school_id), (value, note) in wanted.items():
        score = existing.get((ind_id, school_id))
        if value is None:
            if score is not None:
                audit_delete(actor=actor, obj=score)
                score.delete()
                written += 1
            continue
        if score is None:
            score = ManualScore.objects.create(
                indicator_id=ind_id,
                school_id=school_id,
                period_start=period.start,
                percent=value,
                note=note,
                scored_by=acting_user(actor),
                scored_at=now,
            )
            audit_create(actor=actor, obj=score)
            written += 1
        elif score.percent != value or score.note != note:
            before = snapshot(score)
            score.percent, score.note = value, note
            score.scored_by, score.scored_at = acting_user(actor), now
            score.save()
            audit_update(actor=actor, obj=score, before=before)
            written += 1
    return written


def manual_score_set(*, actor, indicator: Indicator, school, day, percent, note="", now=None):
    """One manual score (see manual_scores_save)."""
    school_id = school if isinstance(school, int) else getattr(school, "pk", None)
    return manual_scores_save(
        actor=actor,
        scheme=indicator.scheme,
        day=day,
        entries=[
            {"indicator_id": indicator.pk, "school_id": school_id, "percent": percent, "note": note}
        ],
        now=now,
    )


# ------------------------------------------------------------------ the engine


def rating_of(scheme: AssessmentScheme, score: Decimal | None) -> str:
    if score is None:
        return ""
    if score >= scheme.excellent_from:
        return Rating.EXCELLENT
    if score >= scheme.good_from:
        return Rating.GOOD
    if score >= scheme.pass_from:
        return Rating.PASS
    return Rating.FAIL


def competition_ranks(scores: dict[int, Decimal], offset: int = 0) -> dict[int, int]:
    """Ranks by score, highest first, ties sharing a rank (1, 2, 2, 4), starting after
    `offset`."""
    ordered = sorted(scores.values(), reverse=True)
    first_at: dict[Decimal, int] = {}
    for position, score in enumerate(ordered, start=1):
        first_at.setdefault(score, position)
    return {key: offset + first_at[score] for key, score in scores.items()}


def score_school(indicators, values: dict[int, Decimal | None]):
    """(score, max_score, details) of one school from its indicator percentages."""
    total, maximum, details = Decimal(0), Decimal(0), {}
    for ind in indicators:
        value = values.get(ind.pk)
        if value is None:
            details[str(ind.pk)] = {"value": None, "score": None, "no_data": True}
            continue
        points = (ind.weight * value / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
        total += ind.weight * value / HUNDRED
        maximum += ind.weight
        details[str(ind.pk)] = {"value": str(value), "score": str(points), "no_data": False}
    if not maximum:
        return None, Decimal(0), details
    score = (total / maximum * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return score, maximum.quantize(CENT), details


def _active_vetoes(school_ids, period) -> dict[int, list[Veto]]:
    vetoes: dict[int, list[Veto]] = defaultdict(list)
    for veto in Veto.objects.filter(
        school_id__in=school_ids,
        revoked_at__isnull=True,
        period_start__lte=period.end,
        period_end__gte=period.start,
    ):
        vetoes[veto.school_id].append(veto)
    return vetoes


def build_results(scheme, indicators, schools, values_by_indicator, vetoed_ids):
    """The school and town results of a run, unsaved: `schools` are (id, town_id) pairs,
    `values_by_indicator` {indicator id: {school id: % or None}}."""
    results = []
    for school_id, town_id in schools:
        values = {ind.pk: values_by_indicator.get(ind.pk, {}).get(school_id) for ind in indicators}
        score, maximum, details = score_school(indicators, values)
        vetoed = school_id in vetoed_ids
        results.append(
            AssessmentResult(
                school_id=school_id,
                town_id=town_id,
                score=score,
                max_score=maximum,
                rating=Rating.FAIL if vetoed else rating_of(scheme, score),
                vetoed=vetoed,
                details=details,
            )
        )
    clean = {r.school_id: r.score for r in results if r.score is not None and not r.vetoed}
    barred = {r.school_id: r.score for r in results if r.score is not None and r.vetoed}
    ranks = competition_ranks(clean)
    ranks.update(competition_ranks(barred, offset=len(clean)))
    for r in results:
        r.rank = ranks.get(r.school_id)

    by_town: dict[int, list[AssessmentResult]] = defaultdict(list)
    for r in results:
        if r.town_id is not None:
            by_town[r.town_id].append(r)
    towns = []
    for town_id, rows in by_town.items():
        scores = [r.score for r in rows if r.score is not None]
        mean = (
            (sum(scores) / len(scores)).quantize(CENT, rounding=ROUND_HALF_UP) if scores else None
        )
        towns.append(
            TownResult(
                town_id=town_id,
                score=mean,
                schools=len(rows),
                vetoed_schools=sum(r.vetoed for r in rows),
            )
        )
    town_ranks = competition_ranks({t.town_id: t.score for t in towns if t.score is not None})
    for t in towns:
        t.rank = town_ranks.get(t.town_id)
    return results, towns


@transaction.atomic
def assessment_compute(*, actor, scheme: AssessmentScheme, day, now=None) -> AssessmentRun:
    """Compute the scheme's schools for the period containing `day` (not in the future) as
    a draft run, replacing the period's draft; published runs stay as they are. Indicators
    count up to the period's end, or today while it runs. A fixed number of queries,
    whatever the number of schools (one or a few per indicator, bulk writes)."""
    now = now or timezone.now()
    started = time.perf_counter()
    scheme = _lock_scheme(actor, scheme)
    if not scheme.is_active:
        raise AssessmentRefused(_("This scheme is switched off; switch it on to compute it."))
    day = clean_day(day, now=now)
    period = sel.period_of(scheme.period_kind, day)
    as_of = min(period.end, sel.local_today(now))
    indicators = sel.scheme_indicators(scheme)
    if not indicators:
        raise ValidationError({"indicators": [_("The scheme has no indicators.")]})
    schools = list(sel.covered_schools(scheme.owner).values_list("pk", "town_id").order_by("pk"))
    school_ids = [pk for pk, _town in schools]
    values = {
        ind.pk: registry.run_source(
            ind.source,
            school_ids,
            period.start,
            as_of,
            {**(ind.params or {}), "indicator_id": ind.pk},
        )
        for ind in indicators
    }
    vetoes = _active_vetoes(school_ids, period)
    results, towns = build_results(scheme, indicators, schools, values, set(vetoes))

    replaced = list(
        AssessmentRun.objects.filter(
            scheme=scheme, period_start=period.start, status=RunStatus.DRAFT
        ).values_list("pk", flat=True)
    )
    if replaced:
        # Drafts only, whatever happened since they were read: a published run is never
        # deleted (publishing locks the scheme too, so this is belt and braces).
        AssessmentRun.objects.filter(pk__in=replaced, status=RunStatus.DRAFT).delete()
    run = AssessmentRun.objects.create(
        scheme=scheme,
        period_start=period.start,
        period_end=period.end,
        status=RunStatus.DRAFT,
        computed_by=acting_user(actor),
        computed_at=now,
    )
    for r in results:
        r.run = run
    for t in towns:
        t.run = run
    AssessmentResult.objects.bulk_create(results, batch_size=BATCH)
    TownResult.objects.bulk_create(towns, batch_size=BATCH)
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    AssessmentRun.objects.filter(pk=run.pk).update(duration_ms=run.duration_ms)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=run,
        changes={
            "after": {
                **snapshot(run),
                "as_of": as_of.isoformat(),
                "schools": len(results),
                "scored": sum(r.score is not None for r in results),
                "vetoed": sorted(vetoes),
                "replaces_drafts": replaced,
            }
        },
    )
    return run


def _lock_run(actor, run: AssessmentRun) -> AssessmentRun:
    """The run's row, locked after its scheme's row: computing and editing a scheme lock the
    scheme, so a publish cannot interleave with a recomputation that replaces the drafts
    (or a scheme edit that discards them)."""
    found = sel.run_get(actor=actor, run_id=run.pk)
    AssessmentScheme.objects.select_for_update().get(pk=found.scheme_id)
    locked = (
        AssessmentRun.objects.select_for_update(of=("self",))
        .select_related("scheme__owner")
        .get(pk=run.pk)
    )
    if not sel.may_manage(actor, locked.scheme):
        raise PermissionDenied(_("Only the office that owns this scheme may publish its rankings."))
    return locked


@transaction.atomic
def assessment_publish(*, actor, run: AssessmentRun, now=None) -> AssessmentRun:
    """Publish a draft: from now on it never changes (a recomputation makes a new draft).
    Only a period that has ended, computed after its end, can be published. Each school's
    principals are told their own result."""
    now = now or timezone.now()
    run = _lock_run(actor, run)
    if run.status == RunStatus.PUBLISHED:
        raise AssessmentRefused(_("This ranking is already published and can no longer change."))
    today = sel.local_today(now)
    if run.period_end >= today:
        raise AssessmentRefused(
            _("The period ends on %(end)s; a ranking can be published once the period is over.")
            % {"end": run.period_end.isoformat()}
        )
    if timezone.localtime(run.computed_at).date() <= run.period_end:
        raise AssessmentRefused(
            _(
                "This draft was computed before the period ended; compute it again, then "
                "publish the new draft."
            )
        )
    before = snapshot(run)
    run.status = RunStatus.PUBLISHED
    run.published_by = acting_user(actor)
    run.published_at = now
    run.save(update_fields=["status", "published_by", "published_at"])
    audit_update(actor=actor, obj=run, before=before)
    _notify_published(run)
    return run


def _notify_published(run: AssessmentRun) -> None:
    """One notification per school to its principals, with its own result only."""
    from huxiao.notify.services import notify_send_many

    results = list(
        AssessmentResult.objects.filter(run=run).select_related("school").order_by("school_id")
    )
    ranked = sum(r.rank is not None for r in results)
    principals: dict[int, list[int]] = defaultdict(list)
    for org_id, user_id in Membership.objects.filter(
        organization_id__in=[r.school_id for r in results],
        role=Role.PRINCIPAL,
        is_active=True,
        user__is_active=True,
    ).values_list("organization_id", "user_id"):
        principals[org_id].append(user_id)
    period = sel.period_of(run.scheme.period_kind, run.period_start).label
    messages = []
    for r in results:
        if not principals.get(r.school_id):
            continue
        if r.score is None:
            body = _message(
                _("%(school)s: no data for this period, so no score."), {"school": r.school.name}
            )
        else:
            body = _message(
                _("%(school)s: %(score)s points, rank %(rank)s of %(ranked)s, rating %(rating)s."),
                {
                    "school": r.school.name,
                    "score": r.score,
                    "rank": r.rank,
                    "ranked": ranked,
                    "rating": _label(Rating(r.rating).label) if r.rating else "—",
                },
            )
            if r.vetoed:
                body += _message(_(" One-vote veto: the rating is capped at fail."), {})
        messages.append(
            dict(
                organizations=[r.school_id],
                event_type="supervision.assessment_published",
                title=_message(
                    _("Safety assessment %(period)s published: %(scheme)s"),
                    {"period": period, "scheme": run.scheme.name},
                ),
                body=body,
                payload={"run_id": run.pk, "school_id": r.school_id},
                recipients=principals[r.school_id],
                dedupe_key=f"supervision.assessment:{run.pk}:{r.school_id}",
            )
        )
    notify_send_many(messages)


# ------------------------------------------------------------------ the one-vote veto


def _deciding_office(actor, school: Organization) -> Organization:
    """The actor's office that vetoes for this school (HOLD_ACCOUNTABLE, covering it); the
    nearest one first (a town office before the county)."""
    offices = [
        m.organization
        for m in memberships_of(actor)
        if m.organization.is_active
        and role_allows(
            m.role, Action.HOLD_ACCOUNTABLE, county_level=m.organization.is_county_level
        )
    ]
    offices.sort(key=lambda o: (o.town_id is None, o.pk))
    for office in offices:
        if Organization.objects.filter(school_filter_for_org(office), pk=school.pk).exists():
            return office
    raise PermissionDenied(_("Your role does not allow this action."))


@transaction.atomic
def veto_record(*, actor, school, day, period_kind=PeriodKind.MONTH, reason, now=None) -> Veto:
    """一票否决: a serious failure of a school caps its rating at FAIL for the period (a
    month, quarter or year containing `day`), in every run whose period overlaps it.
    HOLD_ACCOUNTABLE on the school; a reason is required; the school's principals are
    told."""
    now = now or timezone.now()
    if school is None or not can(actor, Action.VIEW, school.pk):
        raise Http404
    if not can(actor, Action.HOLD_ACCOUNTABLE, school.pk):
        raise PermissionDenied(_("Your role does not allow this action."))
    office = _deciding_office(actor, school)
    errors = v.FieldErrors()
    if period_kind not in PeriodKind.values:
        errors.add("period_kind", _("Choose month, quarter or year."))
    reason = errors.run("reason", v.clean_text, reason, max_length=2000, required=True)
    try:
        day = clean_day(day, now=now)
    except ValidationError as exc:
        for message in exc.message_dict.get("date", exc.messages):
            errors.add("date", message)
    errors.raise_if_any()
    period = sel.period_of(period_kind, day)
    # The school's row, locked: two vetoes of the same school and period at the same time
    # are serialised here, and the second one sees the first (the constraint
    # `veto_once` backs this up).
    Organization.objects.select_for_update().filter(pk=school.pk).first()
    already = _("This school is already vetoed for this period.")
    if Veto.objects.filter(
        school=school,
        period_start=period.start,
        period_end=period.end,
        revoked_at__isnull=True,
    ).exists():
        raise AssessmentRefused(already)
    try:
        with transaction.atomic():
            veto = Veto.objects.create(
                school=school,
                period_start=period.start,
                period_end=period.end,
                reason=reason,
                decided_by_org=office,
                decided_by=acting_user(actor),
                decided_at=now,
            )
    except IntegrityError:
        raise AssessmentRefused(already) from None
    audit_create(actor=actor, obj=veto)
    _notify_veto(veto, school, period, revoked=False)
    return veto


@transaction.atomic
def veto_revoke(*, actor, veto: Veto, reason, now=None) -> Veto:
    """Revoke a veto with a reason (it no longer caps the next computation; published runs
    stay as published)."""
    now = now or timezone.now()
    locked = Veto.objects.select_for_update().select_related("school").filter(pk=veto.pk).first()
    if locked is None or not can(actor, Action.VIEW, locked.school_id):
        raise Http404
    if not can(actor, Action.HOLD_ACCOUNTABLE, locked.school_id):
        raise PermissionDenied(_("Your role does not allow this action."))
    if locked.revoked_at is not None:
        raise AssessmentRefused(_("This veto has already been revoked."))
    errors = v.FieldErrors()
    reason = errors.run("reason", v.clean_text, reason, max_length=2000, required=True)
    errors.raise_if_any()
    before = snapshot(locked)
    locked.revoked_at = now
    locked.revoked_by = acting_user(actor)
    locked.revoke_reason = reason
    locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit_update(actor=actor, obj=locked, before=before)
    period = sel.Period(PeriodKind.MONTH, locked.period_start, locked.period_end)
    _notify_veto(locked, locked.school, period, revoked=True)
    return locked


def _notify_veto(veto: Veto, school: Organization, period, *, revoked: bool) -> None:
    from huxiao.notify.services import notify_send

    users = list(
        Membership.objects.filter(
            organization=school, role=Role.PRINCIPAL, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    if not users:
        return
    params = {
        "school": school.name,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }
    if revoked:
        title = _message(_("One-vote veto revoked: %(school)s, %(start)s – %(end)s"), params)
        body = veto.revoke_reason
    else:
        title = _message(_("One-vote veto: %(school)s, %(start)s – %(end)s"), params)
        body = veto.reason
    notify_send(
        organizations=[],
        event_type="supervision.veto_revoked" if revoked else "supervision.veto",
        title=title,
        body=body,
        payload={"veto_id": veto.pk, "school_id": school.pk},
        recipients=users,
    )
