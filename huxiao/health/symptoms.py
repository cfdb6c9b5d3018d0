"""Symptoms and temperatures, checked in one place, and the surveillance line list
(`SymptomEvent`) written in one place (ADR 0032).

Every service that records symptoms (a child's check, an illness absence, a suspected case)
cleans them with `clean_symptoms`/`clean_temperature` and writes the line list with
`symptom_events_replace`, inside its own transaction; `cluster_check_on_commit` then asks the
surveillance to evaluate the school once the transaction commits (real-time alerts).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from huxiao.health.choices import SYMPTOM_GROUPS, Symptom, SymptomSource
from huxiao.health.models import SymptomEvent

logger = logging.getLogger(__name__)

TEMPERATURE_MIN = Decimal("34.0")
TEMPERATURE_MAX = Decimal("43.0")
# WS/T 772-2020 and common school practice: 37.3 °C (axillary) and above is a fever.
FEVER_FROM = Decimal("37.3")
_VALID = frozenset(Symptom.values)


def clean_temperature(value, *, field: str = "temperature") -> Decimal | None:
    """A temperature in °C with one decimal, or None when blank. Outside 34–43 °C, or not a
    number: ValidationError on `field`, in the user's language."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip().replace("，", ".").replace(",", "."))
    except InvalidOperation:
        raise ValidationError({field: _("Enter the temperature as a number, e.g. 36.5.")}) from None
    if not number.is_finite() or not TEMPERATURE_MIN <= number <= TEMPERATURE_MAX:
        raise ValidationError({field: _("A body temperature must be between 34 and 43 °C.")})
    return number.quantize(Decimal("0.1"))


def clean_symptoms(values: Iterable | None, *, field: str = "symptoms") -> list[str]:
    """Known symptom codes, each once, in the order of `Symptom`; anything unknown is a
    ValidationError on `field`."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.replace("，", ",").split(",")]
    given = {str(v).strip() for v in values if str(v).strip()}
    unknown = sorted(given - _VALID)
    if unknown:
        raise ValidationError(
            {field: _("Unknown symptom: %(codes)s.") % {"codes": ", ".join(unknown)}}
        )
    return [code for code in Symptom.values if code in given]


def with_fever(symptoms: list[str], temperature: Decimal | None) -> list[str]:
    """The symptoms, with fever added when the temperature is a fever."""
    if temperature is not None and temperature >= FEVER_FROM and Symptom.FEVER not in symptoms:
        return clean_symptoms([*symptoms, Symptom.FEVER])
    return symptoms


def symptom_group(code: str) -> str:
    return SYMPTOM_GROUPS.get(code, "other")


def symptom_events_replace(
    *,
    source: str,
    school_id: int,
    class_id: int,
    child_id: int,
    date: dt.date,
    symptoms: list[str],
    child_check=None,
    absence=None,
    case=None,
) -> None:
    """Make the line list of one source record (a child's check, an absence or a case) say
    exactly `symptoms`: its earlier rows are deleted and the new ones written. Call inside
    the caller's transaction."""
    if source not in SymptomSource.values:
        raise ValueError(source)
    anchor = {"child_check": child_check, "absence": absence, "case": case}
    key = {f"{name}_id": obj.pk for name, obj in anchor.items() if obj is not None}
    if len(key) != 1:
        raise ValueError("exactly one of child_check, absence or case")
    SymptomEvent.objects.filter(**key).delete()
    SymptomEvent.objects.bulk_create(
        SymptomEvent(
            school_id=school_id,
            school_class_id=class_id,
            child_id=child_id,
            date=date,
            symptom=code,
            source=source,
            **key,
        )
        for code in symptoms
    )


def cluster_check_on_commit(school_id: int) -> None:
    """Once the caller's transaction commits, evaluate the cluster rules for the school (the
    real-time path; the daily job evaluates every school). A failure is logged, never
    raised into the request that recorded the symptoms."""

    def run():
        from huxiao.health.surveillance_services import clusters_evaluate

        try:
            clusters_evaluate(school_ids=[school_id])
        except Exception:  # noqa: BLE001 - the daily job catches what this misses
            logger.exception("cluster evaluation of school %s failed", school_id)

    transaction.on_commit(run)
