"""Load the demo township (示范县 · 大杨树镇) and its demo logins. Demo mode only."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from huxiao.demo.township import DEMO_PASSWORD, DEMO_USERS, DemoModeOff, load_demo_township

_SUMMARY_ORDER = (
    "towns",
    "organizations",
    "schools",
    "classes",
    "staff",
    "certificates",
    "children",
    "guardians",
    "users",
    "memberships",
)


class Command(BaseCommand):
    help = (
        "Load the demo township: 示范县 · 大杨树镇 with six schools, about 2,000 children and "
        "ten demo logins. Safe to run again. Refuses unless demo mode is on (HUXIAO_DEMO=1)."
    )

    def handle(self, *args, **options):
        # Checked here and again in load_demo_township: it sets a published password.
        if not settings.DEMO_MODE:
            raise CommandError(
                "Demo mode is off, so the demo township was not loaded. "
                "Set HUXIAO_DEMO=1 (never in production) and run `manage.py demo` again."
            )
        started = time.perf_counter()
        try:
            result = load_demo_township(stdout=self.stdout if options["verbosity"] > 1 else None)
        except DemoModeOff as exc:
            raise CommandError(str(exc)) from exc
        # Issue 4's linkage records on top of the township (each loader idempotent).
        from huxiao.access.demo import load_demo_gate
        from huxiao.hazards.demo import load_demo_hazards
        from huxiao.intel.cases_demo import load_demo_cases
        from huxiao.intel.demo import load_demo_register
        from huxiao.intel.warnings_demo import load_demo_warnings
        from huxiao.patrols.demo import load_demo_patrols
        from huxiao.patrols.video_demo import load_demo_video

        patrols = load_demo_patrols(stdout=self.stdout if options["verbosity"] > 1 else None)
        load_demo_register(stdout=self.stdout if options["verbosity"] > 1 else None)
        load_demo_warnings(stdout=self.stdout if options["verbosity"] > 1 else None)
        load_demo_cases(stdout=self.stdout if options["verbosity"] > 1 else None)
        load_demo_video(stdout=self.stdout if options["verbosity"] > 1 else None)
        load_demo_gate(stdout=self.stdout if options["verbosity"] > 1 else None)
        load_demo_hazards(stdout=self.stdout if options["verbosity"] > 1 else None)
        # Security staffing, equipment, defences, duty and rounds (issue 7, ADRs 0028–0029):
        # the compliance evaluation last; before the assessment, whose indicators read them.
        from huxiao.duty.duty_demo import load_demo_duty
        from huxiao.duty.monitoring_demo import load_demo_monitoring
        from huxiao.duty.rounds_demo import load_demo_rounds
        from huxiao.security.compliance_demo import load_demo_compliance
        from huxiao.security.defence_demo import load_demo_defence
        from huxiao.security.equipment_demo import load_demo_equipment
        from huxiao.security.personnel_demo import load_demo_personnel

        for loader in (
            load_demo_personnel,
            load_demo_equipment,
            load_demo_defence,
            load_demo_duty,
            load_demo_monitoring,
            load_demo_rounds,
            load_demo_compliance,
        ):
            loader(stdout=self.stdout if options["verbosity"] > 1 else None)

        # Safety activities, drills and school buses (issue 8, ADRs 0030–0031): the county's
        # term and rules before the activities; the fleet before its trips and checks.
        from huxiao.drills.activity_demo import load_demo_activities
        from huxiao.drills.compliance_demo import load_demo_compliance_rules
        from huxiao.transport.fleet_demo import load_demo_fleet
        from huxiao.transport.inspection_demo import load_demo_inspections
        from huxiao.transport.trip_demo import load_demo_trips

        for loader in (
            load_demo_compliance_rules,
            load_demo_activities,
            load_demo_fleet,
            load_demo_trips,
            load_demo_inspections,
        ):
            loader(stdout=self.stdout if options["verbosity"] > 1 else None)

        # Health four-party linkage (issue 9, ADR 0032): the directory, a month of checks and
        # absences, the cluster alert they raise, one suspected case through every step and
        # what the response to it recorded.
        from huxiao.health.case_demo import load_demo_case
        from huxiao.health.check_demo import load_demo_check
        from huxiao.health.directory_demo import load_demo_directory
        from huxiao.health.response_demo import load_demo_response
        from huxiao.health.surveillance_demo import load_demo_surveillance

        for loader in (
            load_demo_directory,
            load_demo_check,
            load_demo_surveillance,
            load_demo_case,
            load_demo_response,
        ):
            loader(stdout=self.stdout if options["verbosity"] > 1 else None)

        # Listed supervision, surroundings tasks and the supervision app (ADR 0027).
        from huxiao.hazards.listing_demo import load_demo_listings
        from huxiao.supervision.assessment_demo import load_demo_assessment
        from huxiao.supervision.campaign_demo import load_demo_campaigns
        from huxiao.supervision.meeting_demo import load_demo_meetings
        from huxiao.supervision.notice_demo import load_demo_notices

        for loader in (
            load_demo_listings,
            load_demo_campaigns,
            load_demo_assessment,
            load_demo_notices,
            load_demo_meetings,
        ):
            loader(stdout=self.stdout if options["verbosity"] > 1 else None)

        # A monthly county report ready to download (ADR 0033); last, as it reads it all.
        from huxiao.reports.monthly_demo import load_demo_monthly

        load_demo_monthly(stdout=self.stdout if options["verbosity"] > 1 else None)
        elapsed = time.perf_counter() - started

        created, updated = result["created"], result["updated"]
        if created or updated:
            self.stdout.write(self.style.SUCCESS(f"Demo township loaded in {elapsed:.1f} s."))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo township already loaded; nothing changed ({elapsed:.1f} s)."
                )
            )
        for key in _SUMMARY_ORDER:
            note = []
            if created.get(key):
                note.append(f"+{created[key]} new")
            if updated.get(key):
                note.append(f"{updated[key]} restored")
            suffix = f"  ({', '.join(note)})" if note else ""
            self.stdout.write(f"  {key:<14}{result[key]:>6}{suffix}")
        self.stdout.write(
            f"  gate posts {patrols['posts']}, check-ins {patrols['check_ins']}, "
            f"patrol logs {patrols['patrol_logs']}, visits {patrols['visits']}"
        )
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for user in DEMO_USERS:
            posts = "; ".join(title for _, _, title in user.memberships)
            self.stdout.write(f"  {user.username:<11}{user.full_name}  {posts}")
