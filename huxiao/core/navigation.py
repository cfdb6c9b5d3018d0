"""Navigation by role: each entry is shown only if the user may use it somewhere."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import POLICE_KINDS, SCHOOL_KINDS, Action, OrgKind
from huxiao.core.scoping import memberships_of, visible_school_ids


def navigation_for(user, membership) -> list[dict]:
    items = [{"label": _("Home"), "url": reverse("core:home"), "key": "home"}]
    items.extend(_dashboard_items(user))
    # Alarms come first: in an emergency nobody should have to look for them.
    if visible_school_ids(user, Action.RAISE_ALARM):
        items.append(
            {"label": _("Raise alarm"), "url": reverse("alarms:raise"), "key": "alarm_raise"}
        )
    if visible_school_ids(user, Action.VIEW_ALARM):
        items.append(
            {
                "label": _("Alarm console"),
                "url": reverse("alarms:console"),
                "key": "alarm_console",
            }
        )
        items.append(
            {"label": _("Incidents"), "url": reverse("incidents:list"), "key": "incidents"}
        )
    # The school gate's kiosk (ADR 0023): visitors, passes, pick-up.
    if visible_school_ids(user, Action.REGISTER_VISITOR):
        items.append(
            {"label": _("School gate"), "url": reverse("access:kiosk_home"), "key": "gate"}
        )
    # Child pick-up (ADR 0025): the class lists for those who hand over or keep the adults
    # (teachers have no kiosk); passes for those who issue them (ADR 0024).
    if visible_school_ids(user, Action.RELEASE_CHILD) or visible_school_ids(
        user, Action.MANAGE_PICKUP
    ):
        items.append(
            {"label": _("Child pick-up"), "url": reverse("access:pickup_home"), "key": "pickup"}
        )
    if visible_school_ids(user, Action.MANAGE_GATE):
        items.append(
            {"label": _("Gate passes"), "url": reverse("access:pass_list"), "key": "gate_passes"}
        )
        items.append(
            {"label": _("Gate reports"), "url": reverse("access:report"), "key": "gate_reports"}
        )
    # Gate posts (护学岗): the people at the gate check in there; coverage and visits for
    # those who answer for them (ADR 0018).
    if visible_school_ids(user, Action.STAFF_POST) or visible_school_ids(
        user, Action.VIEW_COVERAGE
    ):
        items.append(
            {"label": _("Gate posts"), "url": reverse("patrols:today"), "key": "patrols_posts"}
        )
    if visible_school_ids(user, Action.VIEW_COVERAGE):
        items.append(
            {
                "label": _("Coverage (三见)"),
                "url": reverse("patrols:coverage"),
                "key": "patrols_coverage",
            }
        )
        items.append(
            {
                "label": _("Police-post visits"),
                "url": reverse("patrols:visit_list"),
                "key": "patrols_visits",
            }
        )
    # Video patrol and the camera registry (ADR 0020): police patrol, schools keep it.
    if visible_school_ids(user, Action.LOG_PATROL) or visible_school_ids(user, Action.EDIT_CAMERAS):
        items.append(
            {
                "label": _("Video patrol"),
                "url": reverse("patrols:video_cameras"),
                "key": "patrols_video",
            }
        )
    if visible_school_ids(user, Action.ASSIGN_LVP) or visible_school_ids(user, Action.VIEW):
        items.append(
            {
                "label": _("Legal vice-principals"),
                "url": reverse("patrols:lvp_list"),
                "key": "patrols_lvp",
            }
        )
    # Inspections and hazards (ADR 0026): inspectors and school leaders see the inspections;
    # the template library is for those who edit it.
    if visible_school_ids(user, Action.INSPECT):
        items.append(
            {
                "label": _("Inspections"),
                "url": reverse("hazards:inspection_list"),
                "key": "hazards_inspections",
            }
        )
    if visible_school_ids(user, Action.MANAGE_TEMPLATES):
        items.append(
            {
                "label": _("Checklist templates"),
                "url": reverse("hazards:template_list"),
                "key": "hazards_templates",
            }
        )
    if visible_school_ids(user, Action.VIEW):
        items.append(
            {"label": _("Hazards"), "url": reverse("hazards:hazard_list"), "key": "hazards"}
        )
        # Listed supervision is public at town and county level (ADR 0026).
        items.append(
            {
                "label": _("Listed supervision"),
                "url": reverse("hazards:listing_board"),
                "key": "hazards_listings",
            }
        )
    items.extend(_supervision_items(user))
    items.extend(_security_items(user))
    items.extend(_activity_items(user))
    items.extend(_transport_items(user))
    items.extend(_health_items(user))
    if visible_school_ids(user, Action.VIEW):
        items.append({"label": _("Schools"), "url": reverse("orgs:school_list"), "key": "schools"})
        items.append(
            {
                "label": _("Classes and children"),
                "url": reverse("people:class_list"),
                "key": "classes",
            }
        )
        items.append({"label": _("Staff"), "url": reverse("people:staff_list"), "key": "staff"})
    if visible_school_ids(user, Action.IMPORT_ROSTER) or visible_school_ids(
        user, Action.EXPORT_ROSTER
    ):
        items.append(
            {"label": _("Import and export"), "url": reverse("imports:job_list"), "key": "imports"}
        )
    if visible_school_ids(user, Action.VIEW_AUDIT):
        items.append(
            {"label": _("Audit trail"), "url": reverse("audit:event_list"), "key": "audit"}
        )
    # Warnings both ways (ADR 0019): schools report and receive, police assess and issue.
    if (
        visible_school_ids(user, Action.REPORT_WARNING)
        or visible_school_ids(user, Action.HANDLE_WARNING)
        or visible_school_ids(user, Action.RECEIVE_WARNING)
    ):
        url = (
            reverse("intel:sign_list")
            if visible_school_ids(user, Action.REPORT_WARNING)
            or visible_school_ids(user, Action.HANDLE_WARNING)
            else reverse("intel:early_list")
        )
        items.append({"label": _("Warnings and warning signs"), "url": url, "key": "warnings"})
    # School-related cases (ADR 0021): the police who keep them.
    if visible_school_ids(user, Action.MANAGE_CASES):
        items.append(
            {"label": _("School cases"), "url": reverse("intel:case_list"), "key": "cases"}
        )
    items.extend(_report_items(user))
    # Scoped by police station, not by school (ADR 0017): only the register's keepers.
    from huxiao.intel.rules import can_use_register

    if can_use_register(user):
        items.append(
            {
                "label": _("High-risk persons"),
                "url": reverse("intel:register_list"),
                "key": "register",
            }
        )
    return items


def _security_items(user) -> list[dict]:
    """Security compliance, duty and patrol rounds (ADRs 0028, 0029). The school's own
    guard, equipment and defence pages are reached from its compliance page."""
    items = []
    if visible_school_ids(user, Action.KEEP_DUTY) or visible_school_ids(user, Action.PLAN_DUTY):
        items.append({"label": _("Duty"), "url": reverse("duty:home"), "key": "duty"})
    if visible_school_ids(user, Action.KEEP_DUTY):
        items.append(
            {"label": _("Patrol rounds"), "url": reverse("duty:rounds_home"), "key": "rounds"}
        )
    elif visible_school_ids(user, Action.VIEW) and not _only_school_member(user):
        items.append({"label": _("Duty"), "url": reverse("duty:overview"), "key": "duty"})
    if visible_school_ids(user, Action.VIEW):
        items.append(
            {
                "label": _("Security compliance"),
                "url": reverse("security:compliance_home"),
                "key": "security_compliance",
            }
        )
    if visible_school_ids(user, Action.MANAGE_SECURITY_RULES) and any(
        m.organization.town_id is None and m.organization.kind not in SCHOOL_KINDS
        for m in memberships_of(user)
    ):
        items.append(
            {"label": _("Compliance rules"), "url": reverse("security:rules"), "key": "rules"}
        )
    return items


def _activity_items(user) -> list[dict]:
    """Safety education, drills and their compliance (ADR 0030): a school's members keep
    its activities and calendar; police record their legal lectures; everyone in scope
    sees compliance; the county's keepers edit the rules (and, from there, the terms)."""
    from huxiao.drills.compliance_services import keeper_regions

    items = []
    school_member = _only_school_member(user)
    if school_member and visible_school_ids(user, Action.VIEW):
        items.append(
            {
                "label": _("Safety education and drills"),
                "url": reverse("drills:activity_list"),
                "key": "drills_activities",
            }
        )
        items.append(
            {
                "label": _("Activity calendar"),
                "url": reverse("drills:calendar"),
                "key": "drills_calendar",
            }
        )
    elif any(m.organization.kind in POLICE_KINDS for m in memberships_of(user)) and (
        visible_school_ids(user, Action.RECORD_ACTIVITY)
    ):
        items.append(
            {
                "label": _("Legal lectures"),
                "url": reverse("drills:activity_list") + "?kind=legal_lecture",
                "key": "drills_activities",
            }
        )
    if visible_school_ids(user, Action.VIEW):
        items.append(
            {
                "label": _("Activity compliance"),
                "url": reverse("drills:compliance_home"),
                "key": "drills_compliance",
            }
        )
    if keeper_regions(user):
        items.append(
            {"label": _("Activity rules"), "url": reverse("drills:rules"), "key": "drills_rules"}
        )
    return items


def _transport_items(user) -> list[dict]:
    """School buses (ADR 0031): the fleet for everyone in scope, trips for those who ride
    along as safety officers, checks and trip flags for the police and the school's
    keepers (and the offices, who follow flags of their schools)."""
    if not visible_school_ids(user, Action.VIEW):
        return []
    items = [
        {"label": _("School buses"), "url": reverse("transport:overview"), "key": "transport_fleet"}
    ]
    if visible_school_ids(user, Action.RUN_TRIP):
        items.append(
            {"label": _("Bus trips"), "url": reverse("transport:trip_home"), "key": "trips"}
        )
    keeps = visible_school_ids(user, Action.MANAGE_TRANSPORT) or visible_school_ids(
        user, Action.INSPECT_BUS
    )
    if keeps:
        items.append(
            {
                "label": _("School-bus checks"),
                "url": reverse("transport:inspection_list"),
                "key": "bus_checks",
            }
        )
    if keeps or not _only_school_member(user):
        items.append(
            {
                "label": _("Trip flags"),
                "url": reverse("transport:trip_flags"),
                "key": "trip_flags",
            }
        )
    return items


def _url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _dashboard_items(user) -> list[dict]:
    """Dashboards and scorecards (ADR 0033): the command dashboard for the offices and the
    police (their county, town or jurisdiction); a school's own scorecard for its members."""
    items = []
    if visible_school_ids(user, Action.VIEW_DASHBOARD):
        url = _url_or_none("reports:dashboard")
        if url:
            items.append({"label": _("Dashboard"), "url": url, "key": "dashboard"})
    elif _only_school_member(user) and visible_school_ids(user, Action.VIEW):
        url = _url_or_none("reports:my_scorecard")
        if url:
            items.append({"label": _("Scorecard"), "url": url, "key": "scorecard"})
    return items


def _report_items(user) -> list[dict]:
    """Generated reports: for those who request monthly reports, and for anyone who has
    generated a document or an export (to find it again)."""
    from huxiao.reports.models import Report

    if visible_school_ids(user, Action.GENERATE_REPORTS) or (
        getattr(user, "pk", None) and Report.objects.filter(requested_by_id=user.pk).exists()
    ):
        return [{"label": _("Reports"), "url": reverse("reports:list"), "key": "reports"}]
    return []


def _health_items(user) -> list[dict]:
    """Health four-party linkage (ADR 0032): the health home for every holder of a health
    action (never police); checks for those who take them; cases and cluster alerts for
    those who read health records; suspensions for the offices that only follow them (the
    school's own people see them on the health home)."""
    from huxiao.health.home_selectors import HEALTH_ACTIONS

    if not any(visible_school_ids(user, action) for action in HEALTH_ACTIONS):
        return []
    items = [{"label": _("Health"), "url": reverse("health:home"), "key": "health"}]
    if visible_school_ids(user, Action.RECORD_HEALTH):
        items.append(
            {
                "label": _("Health checks"),
                "url": reverse("health:check_home"),
                "key": "health_checks",
            }
        )
    if visible_school_ids(user, Action.VIEW_HEALTH):
        items.append(
            {"label": _("Suspected cases"), "url": reverse("health:cases"), "key": "health_cases"}
        )
        items.append(
            {"label": _("Cluster alerts"), "url": reverse("health:alerts"), "key": "health_alerts"}
        )
    elif not _only_school_member(user):
        items.append(
            {
                "label": _("Class suspensions"),
                "url": reverse("health:suspensions"),
                "key": "health_suspensions",
            }
        )
    return items


def _only_school_member(user) -> bool:
    kinds = {m.organization.kind for m in memberships_of(user)}
    return bool(kinds) and kinds <= SCHOOL_KINDS


def _supervision_items(user) -> list[dict]:
    """Surroundings tasks, campaigns, assessment, notices, accountability and the leading
    group (ADRs 0026, 0027): each for those who take part in it."""
    items = []
    own_kinds = {m.organization.kind for m in memberships_of(user)}
    if (
        visible_school_ids(user, Action.LIST_SUPERVISION)
        or visible_school_ids(user, Action.VERIFY_HAZARD)
        or OrgKind.DEPARTMENT in own_kinds
    ):
        items.append(
            {
                "label": _("Surroundings tasks"),
                "url": reverse("hazards:task_list"),
                "key": "hazards_tasks",
            }
        )
    # Offices run campaigns; a school's leaders do its self-check (police take no part).
    if visible_school_ids(user, Action.MANAGE_CAMPAIGNS) or (
        own_kinds & SCHOOL_KINDS and visible_school_ids(user, Action.INSPECT)
    ):
        items.append(
            {
                "label": _("Self-check campaigns"),
                "url": reverse("supervision:campaign_list"),
                "key": "supervision_campaigns",
            }
        )
    # Assessors keep the schemes; a school's members read their own results. Nobody else
    # has a page there (police, health centre, departments: 403).
    if visible_school_ids(user, Action.ASSESS) or (
        own_kinds & SCHOOL_KINDS and visible_school_ids(user, Action.VIEW)
    ):
        items.append(
            {
                "label": _("Assessment and ranking"),
                "url": reverse("supervision:assessment_home"),
                "key": "supervision_assessment",
            }
        )
    if own_kinds:
        items.append(
            {
                "label": _("Notices"),
                "url": reverse("supervision:notice_list"),
                "key": "supervision_notices",
            }
        )
    if visible_school_ids(user, Action.HOLD_ACCOUNTABLE) or visible_school_ids(
        user, Action.RECTIFY_HAZARD
    ):
        items.append(
            {
                "label": _("Accountability"),
                "url": reverse("supervision:accountability_list"),
                "key": "supervision_accountability",
            }
        )
    if own_kinds - SCHOOL_KINDS:
        items.append(
            {
                "label": _("Leading group and meetings"),
                "url": reverse("supervision:meetings_group_list"),
                "key": "supervision_meetings",
            }
        )
    elif own_kinds:
        # A school sees the meetings' action items its people answer for.
        items.append(
            {
                "label": _("Meeting action items"),
                "url": reverse("supervision:meetings_action_list"),
                "key": "supervision_actions",
            }
        )
    return items
