"""Real-time events of gate posts: published after commit to the school's groups (its
school, town, county, station and post), so a coverage page can refresh. Payloads carry ids
and the shift's 三见 flags only — no names, no locations."""

from __future__ import annotations

from huxiao.core.events import groups_for_school, publish_on_commit

CHECK_IN = "patrols.checkin"
CHECK_IN_UPDATED = "patrols.checkin_updated"
CHECK_OUT = "patrols.checkout"


def publish_check_in(check_in, shift, event: str) -> None:
    publish_on_commit(
        groups_for_school(shift.school),
        event,
        {
            "check_in_id": check_in.pk,
            "shift_id": shift.pk,
            "school_id": shift.school_id,
            "period": shift.period,
            "date": shift.date.isoformat(),
            "police_present": shift.police_present,
            "police_car": shift.police_car,
            "police_lights": shift.police_lights,
        },
    )
