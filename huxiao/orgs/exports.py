"""Excel exports of the orgs list pages (issue 10 item 5; ADR 0033)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.orgs import selectors
from huxiao.reports.exports import Table, register_export

CHUNK = 500


def school_table(actor, query) -> Table:
    """The schools page: every school in scope (no filters), as the page lists them."""
    schools = selectors.school_list(actor=actor)
    yes, no = _("Yes"), _("No")
    return Table(
        columns=[
            _("ID"),
            _("Name"),
            _("Registered"),
            _("Town"),
            _("Stage"),
            _("Boarding"),
            _("Ownership"),
            _("Children"),
            _("Police station"),
        ],
        rows=(
            (
                s.pk,
                s.name,
                yes if s.is_registered else no,
                s.town.name if s.town else "",
                s.get_stage_display() if s.stage else "",
                yes if s.is_boarding else no,
                s.get_ownership_display() if s.ownership else "",
                s.children_count,
                s.police_station.name if s.police_station else "",
            )
            for s in schools.iterator(chunk_size=CHUNK)
        ),
        count=schools.count(),
    )


register_export("orgs.schools", title=gettext_lazy("Schools"), table=school_table)
