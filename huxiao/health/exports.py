"""Excel exports of the health list pages (issue 10 item 5, ADR 0033): suspected cases,
cluster alerts, the surveillance tables (the schools today, one school's days), a school's
checks of a day, illness follow-ups, class suspensions, disinfections, official
statements, aftercare tasks, monitoring plans and the four-party directory.

Each comes from the page's selector with the page's checks, so only those who see the page
(health roles of the school, never the police) may export it. Children's names appear where
the page lists them (a record list, not an aggregate); the surveillance tables hold counts
only. The pages of one school carry it in their path: the button posts `school=`."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.health import (
    case_selectors,
    case_views,
    check_selectors,
    check_views,
    directory_selectors,
    response_selectors,
    response_views,
    surveillance_selectors,
    surveillance_views,
)
from huxiao.health.choices import CaseStatus, SuspensionScope
from huxiao.health.surveillance_forms import DaysForm
from huxiao.reports.export_filters import form_heading, form_refusal, school_line, yes
from huxiao.reports.exports import Table, register_export

CHUNK = 1000


def cases_table(actor, query) -> Table:
    _ids, school, status = case_views.list_filters(actor, query)
    cases = case_selectors.case_list(
        actor=actor, status=status, school_id=school.pk if school else None
    )
    rows = (
        (
            c.pk,
            c.child.name,
            c.school.name,
            c.school_class.name,
            c.get_status_display(),
            c.onset_date,
            c.reported_at,
            c.suspected_disease,
        )
        for c in cases.iterator(chunk_size=CHUNK)
    )
    heading = [school_line(school)] if school else []
    if status:
        label = _("Open") if status == "open" else CaseStatus(status).label
        heading.append(f"{_('Status')}: {label}")
    return Table(
        columns=[
            _("Number"),
            _("Child"),
            _("School"),
            _("Class"),
            _("Status"),
            _("Symptom onset"),
            _("Reported at"),
            _("Suspected disease"),
        ],
        rows=rows,
        school=school,
        heading=heading,
    )


def alerts_table(actor, query) -> Table:
    _ids, form, status, school_id = surveillance_views.alert_filters(actor, query)
    if form.is_bound and form.errors:
        raise form_refusal(form)
    alerts = surveillance_selectors.alert_list(actor=actor, status=status, school_id=school_id)
    rows = (
        (
            a.pk,
            a.get_status_display(),
            a.school.name,
            a.school_class.name if a.school_class_id else "",
            a.get_symptom_group_display(),
            a.get_kind_display(),
            a.child_count,
            "、".join(c.name for c in surveillance_selectors.children_of(a)),
            a.window_start,
            a.window_end,
            a.raised_at,
        )
        for a in alerts.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Number"),
            _("Status"),
            _("School"),
            _("Class"),
            _("Symptoms"),
            _("Kind"),
            _("Children"),
            _("Names"),
            _("From"),
            _("To"),
            _("Raised at"),
        ],
        rows=rows,
        heading=form_heading(form),
    )


def surveillance_town_table(actor, query) -> Table:
    today = timezone.localdate()
    rows = surveillance_selectors.schools_today(actor=actor, today=today)
    return Table(
        columns=[
            _("Number"),
            _("School"),
            _("Town"),
            _("Morning checks"),
            _("Classes expected"),
            _("Illness absences"),
            _("Open alerts"),
            _("Open cases"),
        ],
        rows=(
            (
                r.school.pk,
                r.school.name,
                r.school.town.name if r.school.town_id else "",
                r.checks_done if r.school_day else None,
                r.checks_expected if r.school_day else None,
                r.illness_absences,
                r.open_alerts,
                r.open_cases,
            )
            for r in rows
        ),
        heading=[today],
        count=len(rows),
    )


def surveillance_school_table(actor, query) -> Table:
    surveillance_selectors.require_viewer(actor)  # the page's 403 comes before its 400
    form = DaysForm(query or None)
    if form.is_bound and form.errors:
        raise form_refusal(form)
    data = surveillance_selectors.school_surveillance(
        actor=actor, school_id=query.get("school"), days=form.days_or_default()
    )
    rows = (
        (
            d.date,
            yes(d.school_day) or _("No"),
            d.checks_done if d.school_day else None,
            d.checks_expected if d.school_day else None,
            d.suspended,
            d.unwell,
            d.absent_total,
            d.absent.get("illness", 0),
            d.absent.get("personal", 0),
            d.absent.get("unknown", 0),
            "; ".join(f"{label} {n}" for label, n in d.illness_groups),
            d.unknown_unchased,
        )
        for d in data.days
    )
    return Table(
        columns=[
            _("Day"),
            _("School day"),
            _("Checks"),
            _("Checks expected"),
            _("Classes suspended"),
            _("Unwell"),
            _("Absent"),
            _("illness"),
            _("personal"),
            _("unknown"),
            _("Illness absences by symptom group"),
            _("Cause not chased"),
        ],
        rows=rows,
        school=data.school,
        heading=[school_line(data.school), f"{data.first} — {data.last}"],
        count=len(data.days),
    )


def checks_table(actor, query) -> Table:
    check_selectors.require_health(actor)
    school = check_selectors.school_get(actor=actor, school_id=query.get("school"))
    day = check_views.checks_day(query, timezone.localdate())
    not_done = _("not done")

    def check(c) -> str:
        if c is None:
            return not_done
        return _("%(n)s unwell") % {"n": c.unwell} if c.unwell else _("done")

    rows = (
        (
            r.school_class.pk,
            r.school_class.name,
            r.children,
            r.school_class.head_teacher.name if r.school_class.head_teacher_id else "",
            yes(r.suspended),
            check(r.morning),
            check(r.noon),
            r.attendance.absent if r.attendance else _("not taken"),
            r.unknown_absences,
            f"{r.checks_done} / {r.plan.checks_per_day}" if r.plan else "",
        )
        for r in check_selectors.school_day(school, day)
    )
    return Table(
        columns=[
            _("Number"),
            _("Class"),
            _("Children"),
            _("Head teacher"),
            _("Suspended"),
            _("Morning check"),
            _("Noon check"),
            _("Absent"),
            _("Cause unknown"),
            _("Monitoring: checks done"),
        ],
        rows=rows,
        school=school,
        heading=[school_line(school), day],
    )


def follow_ups_table(actor, query) -> Table:
    check_selectors.require_health(actor)
    school = check_selectors.school_get(actor=actor, school_id=query.get("school"))
    today = timezone.localdate()
    open_rows = check_selectors.open_follow_ups(school.pk)
    since = today - dt.timedelta(days=check_views.RETURNED_DAYS)
    returned = check_selectors.recently_returned(school.pk, since)

    def rows():
        for row in open_rows:
            f = row.follow_up
            yield (
                f.pk,
                f.child.name,
                f.child.school_class.name,
                f.first_day,
                row.days_away,
                (today - f.first_day).days,
                f.diagnosis,
                row.present_again,
                None,
                "",
            )
        for f in returned:
            yield (
                f.pk,
                f.child.name,
                f.child.school_class.name,
                f.first_day,
                None,
                None,
                f.diagnosis,
                None,
                f.returned_on,
                f.return_note,
            )

    return Table(
        columns=[
            _("Number"),
            _("Child"),
            _("Class"),
            _("Away since"),
            _("School days recorded absent"),
            _("Days ago"),
            _("Diagnosis"),
            _("Present again on"),
            _("Returned on"),
            _("Return note"),
        ],
        rows=rows(),
        school=school,
        heading=[
            school_line(school),
            _("Children away ill, then those back in the last two weeks"),
        ],
    )


def _scope_text(s) -> str:
    if s.scope == SuspensionScope.CLASS:
        return s.school_class.name if s.school_class_id else ""
    if s.scope == SuspensionScope.GRADE:
        return f"{s.grade} · {s.get_scope_display()}"
    return str(s.get_scope_display())


def suspensions_table(actor, query) -> Table:
    _ids, school = response_views.suspension_filters(actor, query)
    school_id = school.pk if school else None
    today = timezone.localdate()

    def rows():
        for state in ("current", "past"):
            qs = response_selectors.suspension_list(
                actor=actor, school_id=school_id, state=state, today=today
            )
            for s in qs.select_related("school", "school_class", "decided_by").iterator(
                chunk_size=CHUNK
            ):
                yield (
                    s.pk,
                    s.school.name,
                    _scope_text(s),
                    s.starts_on,
                    s.ends_on,
                    s.resumed_on,
                    yes(response_selectors.suspension_in_force(s, today)),
                    s.reason,
                    s.health_centre_opinion,
                    s.education_office_opinion,
                    person_name(s.decided_by),
                    s.decided_at,
                )

    return Table(
        columns=[
            _("Number"),
            _("School"),
            _("What is suspended"),
            _("From"),
            _("To"),
            _("Resumed on"),
            _("In force"),
            _("Reason"),
            _("Health centre"),
            _("Education office"),
            _("Decided by"),
            _("Decided at"),
        ],
        rows=rows(),
        school=school,
        heading=[school_line(school)] if school else [],
    )


def disinfections_table(actor, query) -> Table:
    school = response_views.reader_school(actor, query.get("school"))
    month = response_views.disinfection_month(query, timezone.localdate())
    records = response_selectors.disinfection_list(actor=actor, school_id=school.pk, month=month)
    rows = (
        (
            d.pk,
            d.done_at,
            d.get_area_display(),
            d.area_detail,
            d.get_kind_display(),
            d.method,
            d.agent,
            d.done_by_name,
        )
        for d in records.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Number"),
            _("Done at"),
            _("Area"),
            _("Place"),
            _("Kind"),
            _("Method"),
            _("Agent"),
            _("Done by"),
        ],
        rows=rows,
        school=school,
        heading=[school_line(school), month.strftime("%Y-%m")],
    )


def statements_table(actor, query) -> Table:
    school = response_views.reader_school(actor, query.get("school"), (Action.VIEW_SUSPENSION,))
    case = response_selectors.case_of_school(school.pk, query.get("case"))
    statements = response_selectors.statement_list(
        actor=actor, school_id=school.pk, case_id=case.pk if case else None
    )
    rows = (
        (s.pk, s.published_at, s.approved_by, s.case_id, s.text)
        for s in statements.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[_("Number"), _("Published at"), _("Approved by"), _("Case"), _("Statement")],
        rows=rows,
        school=school,
        heading=[school_line(school)],
    )


def aftercare_table(actor, query) -> Table:
    response_views.require_any_of(actor, (Action.VIEW_SUSPENSION,))
    mine = list(response_selectors.my_aftercare(actor))
    mine_ids = {t.pk for t in mine}
    others = [
        t
        for t in response_selectors.aftercare_list(actor=actor, state="open")
        if t.pk not in mine_ids
    ]
    rows = (
        (
            t.pk,
            yes(t.pk in mine_ids),
            t.description,
            t.get_kind_display(),
            t.case.school.name,
            t.case.school_class.name,
            person_name(t.assignee),
            t.due_on,
            t.done_at,
            t.note,
        )
        for t in [*mine, *others]
    )
    return Table(
        columns=[
            _("Number"),
            _("Mine"),
            _("Task"),
            _("Kind"),
            _("School"),
            _("Class"),
            _("Assignee"),
            _("Due on"),
            _("Done at"),
            _("Note"),
        ],
        rows=rows,
        heading=[_("My tasks, then the other open tasks")],
    )


def monitoring_table(actor, query) -> Table:
    school = response_views.reader_school(actor, query.get("school"))
    today = timezone.localdate()
    current = response_selectors.with_today(
        response_selectors.plan_list(actor=actor, school_id=school.pk, state="current"), today
    )
    past = response_selectors.plan_list(actor=actor, school_id=school.pk, state="past")

    def rows():
        for p in [*current, *past]:
            running = getattr(p, "running", False)
            yield (
                p.pk,
                p.school_class.name,
                p.starts_on,
                p.ends_on,
                p.checks_per_day,
                yes(p.case_id),
                yes(running),
                p.taken_today if running else None,
            )

    return Table(
        columns=[
            _("Number"),
            _("Class"),
            _("From"),
            _("To"),
            _("Checks a day"),
            _("After a suspected case"),
            _("Running today"),
            _("Checks today"),
        ],
        rows=rows(),
        school=school,
        heading=[school_line(school)],
    )


def directory_table(actor, query) -> Table:
    school = directory_selectors.school_get(actor=actor, school_id=query.get("school"))
    rows = (
        (
            c.pk,
            c.get_party_display(),
            c.name,
            c.title,
            yes(c.is_primary),
            c.organization.name if c.organization_id else "",
            c.phone,
            person_name(c.updated_by),
            c.updated_at,
        )
        for c in directory_selectors.contact_list(school)
    )
    return Table(
        columns=[
            _("Number"),
            _("Party"),
            _("Name"),
            _("Role"),
            _("First to call"),
            _("Organization"),
            _("Phone"),
            _("Updated by"),
            _("Updated at"),
        ],
        rows=rows,
        school=school,
        heading=[school_line(school)],
    )


register_export("health.cases", title=gettext_lazy("Suspected cases"), table=cases_table)
register_export("health.alerts", title=gettext_lazy("Cluster alerts"), table=alerts_table)
register_export(
    "health.surveillance_town",
    title=gettext_lazy("Surveillance overview"),
    table=surveillance_town_table,
)
register_export(
    "health.surveillance", title=gettext_lazy("Surveillance"), table=surveillance_school_table
)
register_export("health.checks", title=gettext_lazy("Checks and attendance"), table=checks_table)
register_export(
    "health.follow_ups", title=gettext_lazy("Illness follow-ups"), table=follow_ups_table
)
register_export(
    "health.suspensions", title=gettext_lazy("Class suspensions"), table=suspensions_table
)
register_export(
    "health.disinfections", title=gettext_lazy("Disinfection log"), table=disinfections_table
)
register_export(
    "health.statements", title=gettext_lazy("Official statements"), table=statements_table
)
register_export("health.aftercare", title=gettext_lazy("Aftercare tasks"), table=aftercare_table)
register_export("health.monitoring", title=gettext_lazy("Monitoring plans"), table=monitoring_table)
register_export(
    "health.directory", title=gettext_lazy("Four-party contacts"), table=directory_table
)
