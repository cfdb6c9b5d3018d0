"""Recording a step of the suspected-case procedure, in one place (§3 4–10; ADR 0032).

The case area records most steps; the response area records the steps its records complete
(an emergency disinfection of the classroom, the suspension assessment, aftercare). Both call
`step_record` inside their own transaction. A step is recorded once: the first record stands
(who did it and when); a second call returns it unchanged.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from huxiao.audit.services import audit_create
from huxiao.health.choices import Step
from huxiao.health.models import CaseStep, HealthCase


def step_record(*, actor, case: HealthCase, step: str, note: str = "", at=None) -> CaseStep:
    """The step `step` of `case`, recorded now by `actor` unless it already was."""
    if step not in Step.values:
        raise ValueError(step)
    existing = CaseStep.objects.filter(case=case, step=step).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            row = CaseStep.objects.create(
                case=case,
                step=step,
                done_by=actor if getattr(actor, "pk", None) else None,
                done_at=at or timezone.now(),
                note=(note or "")[:500],
            )
            audit_create(actor=actor, obj=row, school=case.school)
    except IntegrityError:
        return CaseStep.objects.get(case=case, step=step)
    return row


def steps_done(case: HealthCase) -> dict[str, CaseStep]:
    """The steps recorded for `case`, by step."""
    return {s.step: s for s in case.steps.select_related("done_by")}
