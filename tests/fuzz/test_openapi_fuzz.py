"""Schemathesis over every operation of /api/v1 as four roles (issue 11, item 5).

The schema is the one the server publishes (`/api/v1/openapi.json`, fetched in process from
config.wsgi). Each generated case is sent as one of a school principal, a police officer, a
county office user and an alarm box (device token), drawn with the case, and must pass
three checks:

- no 5xx (`not_a_server_error`): bad input is a 4xx with a clear message, never a crash;
- the status code is documented for the operation (`status_code_conformance`), including
  the error statuses of ADR 0006 that every operation may answer;
- the body matches the documented schema for that status (`response_schema_conformance`).

Bounded for CI: a few examples per operation (HUXIAO_FUZZ_EXAMPLES, default 8),
derandomized (the same cases on every run), no example database, no shrinking. Side effects
stay inside the test database: tasks run immediately in memory and outbound channels are
the suite's fakes (settings_test).
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

ROLES = ("principal", "police_officer", "county_office", "alarm_box")
# Examples per operation, the role drawn for each: about two per role by default.
EXAMPLES = int(os.environ.get("HUXIAO_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@schema.parametrize()
@schema.given(role=st.sampled_from(ROLES))
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_operation(case, role, fuzz_world, in_process_requests, db):
    case.call_and_validate(headers={"Authorization": fuzz_world[role]}, checks=CHECKS)
