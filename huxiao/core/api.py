"""The REST API root (/api/v1): authentication, error format, pagination."""

from __future__ import annotations

import json
import logging
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.responses import NinjaJSONEncoder
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import Field

logger = logging.getLogger(__name__)

# Every id a client sends: positive and within a 64-bit key, so an absurd number is a 400
# rather than an overflow deep in the database driver.
DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class BearerAuth(HttpBearer):
    """User API tokens (hx_…) and device tokens (hxd_…)."""

    def authenticate(self, request, token):
        from huxiao.accounts.services import api_token_user, device_principal

        if token.startswith("hxd_"):
            return device_principal(token)
        return api_token_user(token)


class SessionAuth(APIKeyCookie):
    """The browser's session, for pages that call the API (CSRF-checked on writes)."""

    param_name = "sessionid"

    def __init__(self):
        super().__init__(csrf=True)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


api = NinjaAPI(
    title="HuXiao API",
    version="1",
    urls_namespace="api",
    auth=[BearerAuth(), SessionAuth()],
    docs_url="/docs",
)


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


def error_response(request, status: int, detail: str, errors: dict | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)


def _field_of(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path")]
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def _schema_errors(request, exc):
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        errors.setdefault(_field_of(item.get("loc", ())), []).append(str(item.get("msg", "")))
    return error_response(request, 400, _("The request has invalid fields."), errors)


@api.exception_handler(DjangoValidationError)
def _domain_errors(request, exc):
    if hasattr(exc, "error_dict"):
        errors = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
    else:
        errors = {"__all__": [str(m) for m in exc.messages]}
    return error_response(request, 400, _("The request has invalid fields."), errors)


@api.exception_handler(Http404)
def _not_found(request, exc):
    # Same answer for "out of your scope" and "does not exist".
    return error_response(request, 404, _("Not found."))


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return error_response(request, 403, str(exc) or _("Your role does not allow this action."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error_response(request, 401, _("Authentication required."))


@api.exception_handler(Exception)
def _unexpected(request, exc):
    # A bug, not bad input: logged with the request id; the client still gets JSON.
    logger.exception("api error request_id=%s", getattr(request, "request_id", ""))
    return error_response(
        request,
        500,
        _("Server error; it has been logged (request %(id)s).")
        % {"id": getattr(request, "request_id", "")},
    )


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return error_response(request, exc.status_code, str(exc))


MAX_OFFSET = 10**9


def paginate(qs, *, limit: int, offset: int, row=None):
    """One page: {"count", "items"}. With `row` (a function turning one object into the
    dict its Out schema would give), the page is rendered to JSON here, skipping ninja's
    per-item validation (about 15 % of a 50-row list); the schema still documents the
    response and a test keeps the two in step."""
    limit = max(1, min(limit, 200))
    offset = max(0, min(offset, MAX_OFFSET))
    page = {"count": qs.count(), "items": list(qs[offset : offset + limit])}
    if row is None:
        return page
    page["items"] = [row(obj) for obj in page["items"]]
    return HttpResponse(
        json.dumps(page, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8"
    )


_registered = False


def register_routers() -> NinjaAPI:
    """Mount every app's router once (a retried URLconf import must not mount them twice)."""
    global _registered
    if _registered:
        return api
    from huxiao.access.api import router as access_router
    from huxiao.accounts.api import router as accounts_router
    from huxiao.alarms.api import router as alarms_router
    from huxiao.audit.api import router as audit_router
    from huxiao.drills.api import router as drills_router
    from huxiao.duty.api import router as duty_router
    from huxiao.hazards.api import router as hazards_router
    from huxiao.health.api import router as health_router
    from huxiao.incidents.api import router as incidents_router
    from huxiao.intel.api import router as intel_router
    from huxiao.orgs.api import router as orgs_router
    from huxiao.patrols.api import router as patrols_router
    from huxiao.people.api import router as people_router
    from huxiao.security.api import router as security_router
    from huxiao.supervision.api import router as supervision_router
    from huxiao.transport.api import router as transport_router

    api.add_router("/", accounts_router)
    api.add_router("/", orgs_router)
    api.add_router("/", people_router)
    api.add_router("/", audit_router)
    api.add_router("/", alarms_router)
    api.add_router("/", incidents_router)
    api.add_router("/", patrols_router)
    api.add_router("/", intel_router)
    api.add_router("/", access_router)
    api.add_router("/", hazards_router)
    api.add_router("/", supervision_router)
    api.add_router("/", security_router)
    api.add_router("/", duty_router)
    api.add_router("/", drills_router)
    api.add_router("/", transport_router)
    api.add_router("/", health_router)
    _registered = True
    return api
