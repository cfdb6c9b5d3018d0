"""Assessment and ranking (考核排名, issue 6 item 5, ADR 0027) for the demo township.

`load_demo_assessment()` runs after `load_demo_township()` and `load_demo_hazards()` (it
needs 大杨树镇中心学校 with its supervisor `edu` and the schools of 大杨树镇; the hazards and
inspections of the last month are what it ranks). Demo mode only. Everything goes through
the real services (default scheme, manual scores, compute, publish), so figures, audit rows
and notifications are the real ones.

What a visitor of `make run` finds under /supervision/assessment/ (as `edu`, `gov` or the
county): the default scheme "校园安全工作月度考核（默认方案）" of 大杨树镇中心学校 (eleven
indicators; drills answer "no data" until issue 8), with

- the **last full month** computed and **published**: each school's principal has the
  result in the inbox, and `principal` sees 大杨树实验幼儿园's score, rank and breakdown at
  /supervision/assessment/schools/<id>/;
- the **current month** computed as a **draft** (up to today), which `edu` can compute
  again after closing a hazard, and publish once the month is over.

The "scored by hand" indicator (台账资料) has scores for the last full month for every
school of the town, entered by `edu`.

Idempotent: the scheme is keyed by office and name; a period that already has a published
run (last month) or any run (this month) is left alone, so work done during a demo
survives a restart. Everything is fictional.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.demo.township import DemoModeOff
from huxiao.supervision import assessment_selectors as sel
from huxiao.supervision import assessment_services as services
from huxiao.supervision import indicators as registry
from huxiao.supervision.choices import RunStatus
from huxiao.supervision.models import AssessmentRun

OFFICE = "大杨树镇中心学校"
# Scores by hand (台账资料, % of the indicator) for last month, by school.
MANUAL_SCORES = {
    "大杨树实验幼儿园": "95",
    "大杨树中心小学": "88",
    "大杨树镇中学": "72",
    "阳光幼儿园": "80",
    "大杨树第二小学": "90",
    "红星村小学": "85",
}


def load_demo_assessment(stdout=None) -> dict:
    """Create what is missing; return what this run did ({"scheme": 0/1, "scores": n,
    "published": 0/1, "drafts": 0/1}). Refuses with DemoModeOff unless DEMO_MODE is on;
    does nothing without the demo township."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    done = {"scheme": 0, "scores": 0, "published": 0, "drafts": 0}
    from huxiao.orgs.models import Organization

    office = Organization.objects.filter(kind=OrgKind.EDUCATION_OFFICE, name=OFFICE).first()
    edu = get_user_model().objects.filter(username="edu", is_active=True).first()
    if office is None or edu is None:
        return done
    now = timezone.now()
    today = sel.local_today(now)
    with transaction.atomic():
        existed = office.assessment_schemes.filter(name=services.DEFAULT_SCHEME_NAME).exists()
        scheme = services.ensure_default_scheme(office, actor=edu)
        done["scheme"] = 0 if existed else 1
        last = sel.previous_period(scheme.period_kind, today)
        current = sel.period_of(scheme.period_kind, today)
        runs = AssessmentRun.objects.filter(scheme=scheme)
        if not runs.filter(period_start=last.start, status=RunStatus.PUBLISHED).exists():
            done["scores"] = _manual_scores(scheme, edu, last.start, now)
            run = services.assessment_compute(actor=edu, scheme=scheme, day=last.end, now=now)
            services.assessment_publish(actor=edu, run=run, now=now)
            done["published"] = 1
        if not runs.filter(period_start=current.start).exists():
            services.assessment_compute(actor=edu, scheme=scheme, day=today, now=now)
            done["drafts"] = 1
    if stdout is not None:
        stdout.write(
            f"  assessment: scheme +{done['scheme']}, {done['scores']} manual scores, "
            f"+{done['published']} published ranking, +{done['drafts']} draft\n"
        )
    return done


def _manual_scores(scheme, actor, period_start, now) -> int:
    schools = {
        s.name: s.pk for s in sel.covered_schools(scheme.owner).filter(name__in=list(MANUAL_SCORES))
    }
    entries = [
        {"indicator_id": ind.pk, "school_id": schools[name], "percent": value, "note": "台账抽查"}
        for ind in scheme.indicators.filter(source=registry.MANUAL)
        for name, value in MANUAL_SCORES.items()
        if name in schools
    ]
    if not entries:
        return 0
    return services.manual_scores_save(
        actor=actor, scheme=scheme, day=period_start, entries=entries, now=now
    )
