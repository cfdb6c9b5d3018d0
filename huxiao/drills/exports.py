"""Excel exports of the drills list pages (issue 10 item 5, ADR 0033): safety activities,
the schools of the compliance overviews (all schools, or one town's) and the county's
school terms, each from the page's selector with the filters its form gives."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.names import person_name
from huxiao.drills import activity_selectors as sel
from huxiao.drills import activity_views, compliance_services, compliance_views
from huxiao.drills import compliance_selectors as compliance
from huxiao.reports.export_filters import form_heading, form_refusal
from huxiao.reports.exports import Table, register_export

CHUNK = 1000


def _label(labels: dict, value) -> str:
    return str(labels.get(value, value or ""))


def activities_table(actor, query) -> Table:
    _ids, form, filters = activity_views.list_filters(actor, query)
    activities = sel.activity_list(actor=actor, filters=filters)

    def classes(a) -> str:
        if a.whole_school:
            return _("whole school")
        return "、".join(c.name for c in a.classes.all())

    def rows():
        for a in activities.iterator(chunk_size=CHUNK):
            record = getattr(a, "drill", None)
            yield (
                a.pk,
                a.starts_at,
                a.title,
                _label(sel.KIND_LABELS, a.kind),
                _label(sel.DRILL_KIND_LABELS, a.drill_kind) if a.drill_kind else "",
                _label(sel.STATUS_LABELS, a.status),
                a.school.name,
                classes(a),
                a.headcount,
                person_name(a.police_officer),
                a.police_confirmed_at,
                sel.duration_text(record.duration_seconds) if record else "",
                a.attachment_count,
            )

    return Table(
        columns=[
            _("Number"),
            _("Starts at"),
            _("Title"),
            _("Kind"),
            _("Kind of drill"),
            _("Status"),
            _("School"),
            _("Classes"),
            _("Participants"),
            _("Police officer"),
            _("Confirmed by the officer at"),
            _("Evacuated in"),
            _("Files"),
        ],
        rows=rows(),
        heading=form_heading(form),
    )


def compliance_table(actor, query) -> Table:
    """The schools table of the overview page, or of a town's page with `town`."""
    compliance.require_overview_reader(actor)  # the page's 403 comes before its 400
    form, filters, status = compliance_views.overview_filters(query)
    if status != 200:
        raise form_refusal(form)
    raw_town = query.get("town", "")
    if raw_town:
        if not (raw_town.isascii() and raw_town.isdigit()):
            raise Http404
        overview = compliance.town_overview(
            actor=actor, town_id=compliance_views._id(int(raw_town)), **filters
        )
    else:
        overview = compliance.schools_overview(actor=actor, **filters)
    yes, no = _("Yes"), _("No")

    def missing(row) -> str:
        return "; ".join(
            f"{label}: {'; '.join(lacks)}" if lacks else label
            for _key, label, _verdict, lacks in row.lacking
        )

    rows = (
        (
            r.pk,
            r.name,
            r.town_name,
            yes if r.result.is_compliant else no,
            r.result.missing_count,
            missing(r),
        )
        for r in overview.rows
    )
    heading = [f"{_('Town')}: {overview.town.name}"] if overview.town else []
    if overview.term is not None:
        heading.append(f"{_('Term')}: {overview.term.name}")
    return Table(
        columns=[
            _("Number"),
            _("School"),
            _("Town"),
            _("On track"),
            _("Missed (overdue)"),
            _("What is missing"),
        ],
        rows=rows,
        heading=heading + form_heading(form),
        count=len(overview.rows),
    )


def terms_table(actor, query) -> Table:
    region, terms = compliance_services.term_list(
        actor=actor, region_id=compliance_views.region_param(query)
    )
    rows = (
        (
            t.pk,
            t.name,
            t.starts_on,
            t.ends_on,
            "; ".join(f"{start} — {end}" for start, end in (t.breaks or [])),
        )
        for t in terms
    )
    return Table(
        columns=[
            _("Number"),
            _("Term name"),
            _("First day of the term"),
            _("Last day of the term"),
            _("Holidays in the term"),
        ],
        rows=rows,
        heading=[region.name],
        count=len(terms),
    )


register_export(
    "drills.activities", title=gettext_lazy("Safety education and drills"), table=activities_table
)
register_export(
    "drills.compliance", title=gettext_lazy("Safety activity compliance"), table=compliance_table
)
register_export("drills.terms", title=gettext_lazy("School terms"), table=terms_table)
