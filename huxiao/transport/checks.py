"""Document checks shared by the fleet, trip and inspection areas (issue 8; ADR 0031).

A school bus may only run with a valid permit, insurance and safety inspection; its driver
only with a valid licence of a class that may drive it, a valid school-bus driver
qualification and a health check in date (《校车安全管理条例》 arts. 14, 23–24). Each check
returns the problems as (field, message) pairs, empty when everything is in date. A missing
expiry date counts as a problem: an unknown date is not a valid document.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from huxiao.transport.choices import LicenceClass

# Licence classes that may drive a school bus (A1/A3/B1 any; B2/C1 only buses of up to
# 10 seats, here by the approved seats).
BUS_LICENCE_CLASSES = frozenset({LicenceClass.A1, LicenceClass.A3, LicenceClass.B1})
SMALL_BUS_SEATS = 10
# Warn this many days before a document runs out.
EXPIRY_WARNING_DAYS = 30


def _expiry(problems: list, field: str, expires_on: dt.date | None, label: str, on: dt.date):
    if expires_on is None:
        problems.append((field, _("%(doc)s: no expiry date recorded.") % {"doc": label}))
    elif expires_on < on:
        problems.append(
            (
                field,
                _("%(doc)s expired on %(date)s.") % {"doc": label, "date": expires_on.isoformat()},
            )
        )


def bus_problems(bus, on: dt.date) -> list[tuple[str, str]]:
    """Why `bus` may not carry children on `on` (empty: it may)."""
    problems: list[tuple[str, str]] = []
    if not bus.is_active:
        problems.append(("is_active", _("The bus is out of service.")))
    _expiry(problems, "permit_expires_on", bus.permit_expires_on, _("School-bus permit"), on)
    _expiry(problems, "insurance_expires_on", bus.insurance_expires_on, _("Insurance"), on)
    _expiry(
        problems, "inspection_expires_on", bus.inspection_expires_on, _("Safety inspection"), on
    )
    return problems


def driver_problems(driver, on: dt.date, *, bus=None) -> list[tuple[str, str]]:
    """Why `driver` may not drive a school bus (`bus`, when given) on `on`."""
    problems: list[tuple[str, str]] = []
    if not driver.is_active:
        problems.append(("is_active", _("The driver is no longer in service.")))
    _expiry(problems, "licence_expires_on", driver.licence_expires_on, _("Driving licence"), on)
    _expiry(
        problems,
        "qualification_expires_on",
        driver.qualification_expires_on,
        _("School-bus driver qualification"),
        on,
    )
    _expiry(
        problems, "health_check_expires_on", driver.health_check_expires_on, _("Health check"), on
    )
    if driver.licence_class not in BUS_LICENCE_CLASSES and (
        bus is None or bus.seats > SMALL_BUS_SEATS
    ):
        problems.append(
            (
                "licence_class",
                _("A class %(cls)s licence may not drive a school bus of more than %(n)s seats.")
                % {"cls": driver.licence_class, "n": SMALL_BUS_SEATS},
            )
        )
    return problems


def expiring_soon(expires_on: dt.date | None, on: dt.date, days: int = EXPIRY_WARNING_DAYS) -> bool:
    """In date today but running out within `days`."""
    return expires_on is not None and on <= expires_on <= on + dt.timedelta(days=days)
