"""Assessment indicator sources fed by the security app (replaces the supervision
placeholder "staffing_compliance"; ADR 0027 "Indicators", ADR 0028)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from huxiao.supervision.indicators import indicator, ratio


@indicator(
    "staffing_compliance",
    label=_("Security up to standard (compliance rules)"),
    description=_(
        "Share of the county's compliance rules in force that the school meets (guards, "
        "equipment, technical and physical defences, patrol rounds), from its latest "
        "evaluation. This is the school's current state, not the state during the period: "
        "the evaluation keeps no history. Rules that do not apply are left out; a rule "
        "without data counts as not met. Never evaluated: no data."
    ),
    app="security",
    replace=True,
)
def staffing_compliance(school_ids, start, end, params):
    from huxiao.security.models import SchoolCompliance

    rows = SchoolCompliance.objects.filter(school_id__in=school_ids).values_list(
        "school_id", "passed", "failed", "no_data"
    )
    return {
        school_id: ratio(passed, passed + failed + no_data)
        for school_id, passed, failed, no_data in rows
    }
