"""Organization kinds, membership roles and what each role may do.

The single table of role → actions lives here so that scoping (core/scoping.py) and the
navigation read the same facts.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    SCHOOL = "school", _("School")
    KINDERGARTEN = "kindergarten", _("Kindergarten")
    POLICE_STATION = "police_station", _("Police station")
    POLICE_POST = "police_post", _("Campus police post")
    EDUCATION_OFFICE = "education_office", _("Education office / central school")
    GOVERNANCE_OFFICE = "governance_office", _("Governance office")
    HEALTH_CENTRE = "health_centre", _("Health centre")
    GOVERNMENT = "government", _("Township government")
    DEPARTMENT = "department", _("Department")


SCHOOL_KINDS = frozenset({OrgKind.SCHOOL, OrgKind.KINDERGARTEN})
POLICE_KINDS = frozenset({OrgKind.POLICE_STATION, OrgKind.POLICE_POST})


class Role(models.TextChoices):
    PRINCIPAL = "principal", _("Principal")
    SECURITY_OFFICER = "security_officer", _("Security officer")
    GUARD = "guard", _("Guard")
    TEACHER = "teacher", _("Teacher")
    HEALTH_STAFF = "health_staff", _("Health staff")
    DUTY_LEADER = "duty_leader", _("Duty leader")
    POLICE_COMMANDER = "police_commander", _("Police commander")
    POLICE_OFFICER = "police_officer", _("Police officer")
    LEGAL_VICE_PRINCIPAL = "legal_vice_principal", _("Legal vice-principal")
    EDUCATION_SUPERVISOR = "education_supervisor", _("Education supervisor")
    GOVERNANCE_COORDINATOR = "governance_coordinator", _("Governance coordinator")
    HEALTH_OFFICER = "health_officer", _("Health officer")
    GOVERNMENT_LIAISON = "government_liaison", _("Government liaison")


SCHOOL_ROLES = frozenset(
    {
        Role.PRINCIPAL,
        Role.SECURITY_OFFICER,
        Role.GUARD,
        Role.TEACHER,
        Role.HEALTH_STAFF,
        Role.DUTY_LEADER,
    }
)
POLICE_ROLES = frozenset({Role.POLICE_COMMANDER, Role.POLICE_OFFICER, Role.LEGAL_VICE_PRINCIPAL})

# Which roles an organization of each kind may grant.
ROLES_BY_KIND = {
    OrgKind.SCHOOL: SCHOOL_ROLES,
    OrgKind.KINDERGARTEN: SCHOOL_ROLES,
    OrgKind.POLICE_STATION: POLICE_ROLES,
    OrgKind.POLICE_POST: POLICE_ROLES,
    OrgKind.EDUCATION_OFFICE: frozenset({Role.EDUCATION_SUPERVISOR}),
    OrgKind.GOVERNANCE_OFFICE: frozenset({Role.GOVERNANCE_COORDINATOR}),
    OrgKind.HEALTH_CENTRE: frozenset({Role.HEALTH_OFFICER}),
    OrgKind.GOVERNMENT: frozenset({Role.GOVERNMENT_LIAISON}),
    OrgKind.DEPARTMENT: frozenset({Role.GOVERNMENT_LIAISON}),
}


class Action(models.TextChoices):
    """What a principal may do to records of the schools in its scope."""

    VIEW = "view", _("View")
    EDIT_ORG = "edit_org", _("Edit organization details")
    EDIT_ROSTER = "edit_roster", _("Edit classes, children and guardians")
    EDIT_STAFF = "edit_staff", _("Edit staff")
    IMPORT_ROSTER = "import_roster", _("Import rosters")
    EXPORT_ROSTER = "export_roster", _("Export rosters")
    VIEW_ID_NUMBER = "view_id_number", _("View full resident ID numbers")
    VIEW_AUDIT = "view_audit", _("View the audit trail")
    REGISTER_VISITOR = "register_visitor", _("Register visitors")
    RAISE_ALARM = "raise_alarm", _("Raise alarms")
    VIEW_ALARM = "view_alarm", _("See alarms")
    RESPOND_ALARM = "respond_alarm", _("Acknowledge, dispatch and resolve alarms")
    CANCEL_ALARM = "cancel_alarm", _("Cancel any alarm of the school")
    # Police–school linkage (issue 4): gate posts, patrols, visits, video patrol.
    PLAN_POSTS = "plan_posts", _("Plan gate posts")
    STAFF_POST = "staff_post", _("Check in at gate posts")
    LOG_PATROL = "log_patrol", _("Log patrols, visits and video patrols")
    VIEW_COVERAGE = "view_coverage", _("See gate-post coverage and visits")
    EDIT_CAMERAS = "edit_cameras", _("Edit the camera registry")
    # Warnings both ways, cases, legal vice-principals.
    REPORT_WARNING = "report_warning", _("Report warning signs to the police")
    HANDLE_WARNING = "handle_warning", _("Assess warning signs and issue early warnings")
    RECEIVE_WARNING = "receive_warning", _("Receive and acknowledge early warnings")
    MANAGE_CASES = "manage_cases", _("Manage school-related cases")
    ASSIGN_LVP = "assign_lvp", _("Assign legal vice-principals")
    # The school gate (issue 5): REGISTER_VISITOR runs the kiosk (visitors, vehicles, pass
    # scans, contraband); MANAGE_GATE issues passes, keeps the blocklist, the gate settings
    # and the reports; pick-up codes and delegates are MANAGE_PICKUP, handing a child over
    # is RELEASE_CHILD.
    MANAGE_GATE = "manage_gate", _("Manage passes, the blocklist and gate settings")
    MANAGE_PICKUP = "manage_pickup", _("Manage authorised pick-up adults and their codes")
    RELEASE_CHILD = "release_child", _("Hand children over at pick-up")
    # Inspections and hazards (issue 6). INSPECT: carry out inspections of a school (school
    # leaders only their own self-checks, enforced by the service); REPORT_HAZARD: register
    # a hazard; RECTIFY_HAZARD: assign owners, plan and submit rectifications; VERIFY_HAZARD:
    # verify and close, or send back (never one's own submission); MANAGE_TEMPLATES: copy
    # and edit checklist templates.
    INSPECT = "inspect", _("Carry out inspections")
    REPORT_HAZARD = "report_hazard", _("Report hazards")
    RECTIFY_HAZARD = "rectify_hazard", _("Rectify hazards")
    VERIFY_HAZARD = "verify_hazard", _("Verify and close hazards")
    MANAGE_TEMPLATES = "manage_templates", _("Edit checklist templates")
    # Supervision (issue 6, ADR 0027): LIST_SUPERVISION places hazards under listed
    # supervision (挂牌督办) and gives surroundings tasks to departments; MANAGE_CAMPAIGNS
    # runs self-check campaigns (spot checks, acceptance); ASSESS keeps assessment schemes,
    # manual scores, rankings and notices; HOLD_ACCOUNTABLE records interviews, warnings,
    # referrals and the one-vote veto; MANAGE_MEETINGS keeps the leading group, its meetings
    # and their action items.
    LIST_SUPERVISION = "list_supervision", _("Place hazards under listed supervision")
    MANAGE_CAMPAIGNS = "manage_campaigns", _("Run self-check campaigns")
    ASSESS = "assess", _("Assess and rank schools, publish notices")
    HOLD_ACCOUNTABLE = "hold_accountable", _("Record accountability and the one-vote veto")
    MANAGE_MEETINGS = "manage_meetings", _("Keep the leading group and joint meetings")
    # Security and duty (issue 7, ADRs 0028–0029): MANAGE_SECURITY keeps a school's guard
    # records, trainings, equipment and defences; MANAGE_SECURITY_RULES keeps the county's
    # compliance rules and equipment list (county-level offices only, checked by the
    # service); PLAN_DUTY keeps duty rosters, the duty plan and checkpoints; KEEP_DUTY checks
    # in for shifts, writes the duty and monitoring-room logs, hands over and scans rounds.
    MANAGE_SECURITY = "manage_security", _("Keep guards, equipment and defences")
    MANAGE_SECURITY_RULES = "manage_security_rules", _("Keep the county's compliance rules")
    PLAN_DUTY = "plan_duty", _("Plan duty rosters and checkpoints")
    KEEP_DUTY = "keep_duty", _("Keep duty, the monitoring-room log and patrol rounds")
    # Safety activities and school buses (issue 8, ADRs 0030–0031): RECORD_ACTIVITY plans and
    # records a school's safety education, drills, lectures, parent meetings and trainings
    # (police officers record their legal lectures and confirm their presence, checked by
    # the service); MANAGE_ACTIVITY_RULES keeps the county's terms and activity rules
    # (county-level offices only, checked by the service); MANAGE_TRANSPORT keeps buses,
    # drivers, routes and riders and follows up findings; RUN_TRIP starts trips and ticks
    # boarding as the bus safety officer; INSPECT_BUS records police bus inspections.
    RECORD_ACTIVITY = "record_activity", _("Plan and record safety activities and drills")
    MANAGE_ACTIVITY_RULES = "manage_activity_rules", _("Keep the county's terms and activity rules")
    MANAGE_TRANSPORT = "manage_transport", _("Keep school buses, drivers, routes and riders")
    RUN_TRIP = "run_trip", _("Run bus trips and boarding lists")
    INSPECT_BUS = "inspect_bus", _("Inspect school buses")
    # Health four-party linkage (issue 9, ADR 0032); police roles hold none of these.
    # RECORD_HEALTH takes checks and attendance, chases absences, reports a suspected case
    # and records routine disinfection; VIEW_HEALTH reads health records (children's checks,
    # absences, cases, contacts, alerts: each read of a child's record logged);
    # MANAGE_HEALTH runs the suspected-case procedure, the directory, disinfection,
    # statements and aftercare; MANAGE_HEALTH_RULES keeps the county's cluster-alert
    # thresholds (county-level organizations only, checked by the service);
    # SUSPEND_CLASSES records the suspension decision and the resumption; VIEW_SUSPENSION
    # sees which classes are suspended (everyone of the school and the offices, not police).
    RECORD_HEALTH = "record_health", _("Take health checks and attendance")
    VIEW_HEALTH = "view_health", _("See health records")
    MANAGE_HEALTH = "manage_health", _("Run suspected-case procedures and health records")
    MANAGE_HEALTH_RULES = "manage_health_rules", _("Keep the county's cluster-alert thresholds")
    SUSPEND_CLASSES = "suspend_classes", _("Decide class suspensions")
    VIEW_SUSPENSION = "view_suspension", _("See class suspensions")
    # Dashboards and reports (issue 10, ADR 0033): VIEW_DASHBOARD opens the command
    # dashboard of the holder's county, town or police jurisdiction (each panel also needs
    # the action of the app it reads, so police never see health figures and only police
    # see the register's counts); GENERATE_REPORTS requests the monthly report of a town
    # or the county (offices only). A school's scorecard needs VIEW of that school.
    VIEW_DASHBOARD = "view_dashboard", _("See the command dashboard")
    GENERATE_REPORTS = "generate_reports", _("Generate monthly reports")
    # The high-risk persons register: police of the jurisdiction only (ADR to come).
    VIEW_REGISTER = "view_register", _("See the high-risk persons register")
    EDIT_REGISTER = "edit_register", _("Edit the high-risk persons register")


A = Action
# §1 二(五)四: the people on the spot raise alarms; the health staff member sees them.
_SCHOOL_STAFF = {
    A.VIEW,
    A.RAISE_ALARM,
    A.VIEW_ALARM,
    A.REPORT_WARNING,
    A.REPORT_HAZARD,
    A.VIEW_SUSPENSION,
}
# §3 3–4: those who take checks and attendance and report a suspected case; the health
# staff, the principal (leading group leader) and the day's duty leader read the records.
_HEALTH_RECORD = {A.RECORD_HEALTH}
_HEALTH_READ = {A.RECORD_HEALTH, A.VIEW_HEALTH}
_HEALTH_RUN = {A.RECORD_HEALTH, A.VIEW_HEALTH, A.MANAGE_HEALTH}
# School leaders run the monthly self-check and answer for rectification.
_SCHOOL_LEAD = {A.INSPECT, A.RECTIFY_HAZARD}
# Those who inspect schools from outside and verify their rectifications.
_SUPERVISE = {A.INSPECT, A.REPORT_HAZARD, A.VERIFY_HAZARD}
# The people at the gate: they staff posts and must see the police's early warnings.
_GATE = {A.STAFF_POST, A.RECEIVE_WARNING, A.VIEW_COVERAGE}
_POLICE = {
    A.VIEW,
    A.VIEW_ALARM,
    A.RESPOND_ALARM,
    A.STAFF_POST,
    A.LOG_PATROL,
    A.VIEW_COVERAGE,
    A.HANDLE_WARNING,
    A.VIEW_DASHBOARD,
}
# Town and county command receive alarms; the health centre does not (ADR 0011).
_COMMAND = {A.VIEW_ALARM, A.VIEW_COVERAGE, A.VIEW_DASHBOARD}
# The offices that report to the Party committee and government every month (§1 三(三)).
_REPORT = {A.GENERATE_REPORTS}
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.PRINCIPAL: frozenset(
        _SCHOOL_STAFF
        | {
            A.EDIT_ORG,
            A.EDIT_ROSTER,
            A.EDIT_STAFF,
            A.IMPORT_ROSTER,
            A.EXPORT_ROSTER,
            A.VIEW_ID_NUMBER,
            A.REGISTER_VISITOR,
            # The principal answers for the school (第一责任人) and reads its own trail.
            A.VIEW_AUDIT,
            A.CANCEL_ALARM,
            A.PLAN_POSTS,
            A.EDIT_CAMERAS,
            A.MANAGE_GATE,
            A.MANAGE_PICKUP,
            A.RELEASE_CHILD,
            A.MANAGE_SECURITY,
            A.PLAN_DUTY,
            A.KEEP_DUTY,
            A.RECORD_ACTIVITY,
            A.MANAGE_TRANSPORT,
            A.RUN_TRIP,
            A.SUSPEND_CLASSES,
        }
        | _GATE
        | _SCHOOL_LEAD
        | _HEALTH_RUN
    ),
    Role.SECURITY_OFFICER: frozenset(
        _SCHOOL_STAFF
        | _GATE
        | {
            A.EDIT_STAFF,
            A.REGISTER_VISITOR,
            A.CANCEL_ALARM,
            A.PLAN_POSTS,
            A.EDIT_CAMERAS,
            A.MANAGE_GATE,
            A.MANAGE_PICKUP,
            A.RELEASE_CHILD,
            A.MANAGE_SECURITY,
            A.PLAN_DUTY,
            A.KEEP_DUTY,
            A.RECORD_ACTIVITY,
            A.MANAGE_TRANSPORT,
            A.RUN_TRIP,
        }
        | _SCHOOL_LEAD
    ),
    Role.GUARD: frozenset(
        _SCHOOL_STAFF | _GATE | {A.REGISTER_VISITOR, A.RELEASE_CHILD, A.KEEP_DUTY, A.RUN_TRIP}
    ),
    # Teachers hand their class over at dismissal and keep its pick-up adults.
    Role.TEACHER: frozenset(
        _SCHOOL_STAFF
        | {
            A.EDIT_ROSTER,
            A.EXPORT_ROSTER,
            A.MANAGE_PICKUP,
            A.RELEASE_CHILD,
            A.KEEP_DUTY,
            A.RECORD_ACTIVITY,
            A.RUN_TRIP,
        }
        | _HEALTH_RECORD
    ),
    Role.HEALTH_STAFF: frozenset({A.VIEW, A.VIEW_ALARM, A.VIEW_SUSPENSION} | _HEALTH_RUN),
    Role.DUTY_LEADER: frozenset(
        _SCHOOL_STAFF
        | _GATE
        | {
            A.REGISTER_VISITOR,
            A.CANCEL_ALARM,
            A.RELEASE_CHILD,
            A.KEEP_DUTY,
            A.PLAN_DUTY,
            A.RECORD_ACTIVITY,
            A.RUN_TRIP,
        }
        | _HEALTH_READ
    ),
    # Police see rosters of their jurisdiction's schools (to verify pick-up and identify
    # children in an emergency); the commander may read full ID numbers, each read logged.
    # The register is for commanders and officers; a legal vice-principal works inside a
    # school and does not hold it.
    Role.POLICE_COMMANDER: frozenset(
        _POLICE
        | _SUPERVISE
        | {
            A.VIEW_ID_NUMBER,
            A.PLAN_POSTS,
            A.EDIT_CAMERAS,
            A.MANAGE_CASES,
            A.ASSIGN_LVP,
            A.VIEW_REGISTER,
            A.EDIT_REGISTER,
            A.RECORD_ACTIVITY,
            A.INSPECT_BUS,
        }
    ),
    Role.POLICE_OFFICER: frozenset(
        _POLICE
        | _SUPERVISE
        | {A.MANAGE_CASES, A.VIEW_REGISTER, A.EDIT_REGISTER, A.RECORD_ACTIVITY, A.INSPECT_BUS}
    ),
    # The post is a title, not a grant: the officer acts through their own commander/officer
    # membership at the station, so an LVP membership left behind when they leave the
    # police (or their term ends) gives nothing (ADR 0020, addendum).
    Role.LEGAL_VICE_PRINCIPAL: frozenset(),
    # The education office supervises monthly, runs campaigns and assesses; the governance
    # office also coordinates: listed supervision, departments, accountability, the veto,
    # the leading group and joint meetings (DESIGN.md §1).
    Role.EDUCATION_SUPERVISOR: frozenset(
        _COMMAND
        | _SUPERVISE
        | {
            A.VIEW,
            A.EDIT_ORG,
            A.EXPORT_ROSTER,
            A.MANAGE_TEMPLATES,
            A.MANAGE_CAMPAIGNS,
            A.ASSESS,
            A.MANAGE_SECURITY_RULES,
            A.MANAGE_ACTIVITY_RULES,
            A.VIEW_SUSPENSION,
        }
        | _REPORT
    ),
    Role.GOVERNANCE_COORDINATOR: frozenset(
        _COMMAND
        | _SUPERVISE
        | {
            A.VIEW,
            A.EDIT_ORG,
            A.VIEW_AUDIT,
            A.MANAGE_TEMPLATES,
            A.LIST_SUPERVISION,
            A.MANAGE_CAMPAIGNS,
            A.ASSESS,
            A.HOLD_ACCOUNTABLE,
            A.MANAGE_MEETINGS,
            A.MANAGE_SECURITY_RULES,
            A.MANAGE_ACTIVITY_RULES,
            A.VIEW_SUSPENSION,
        }
        | _REPORT
    ),
    # The health centre (§3 4–8): alerts, cases, transfer, contact advice, the thresholds.
    Role.HEALTH_OFFICER: frozenset(
        {
            A.VIEW,
            A.VIEW_HEALTH,
            A.MANAGE_HEALTH,
            A.MANAGE_HEALTH_RULES,
            A.VIEW_SUSPENSION,
            A.VIEW_DASHBOARD,
        }
    ),
    Role.GOVERNMENT_LIAISON: frozenset(_COMMAND | _REPORT | {A.VIEW, A.VIEW_SUSPENSION}),
}
# Members of county-level organizations (no town) also read the audit trail of the county.
COUNTY_EXTRA_ACTIONS = frozenset({A.VIEW_AUDIT})


def role_allows(role: str, action: str, *, county_level: bool = False) -> bool:
    if action in ROLE_ACTIONS.get(role, frozenset()):
        return True
    return county_level and action in COUNTY_EXTRA_ACTIONS
