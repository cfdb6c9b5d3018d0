"""The REST API root (/api/v1): authentication, error format, pagination."""

from __future__ import annotations

import json
import logging
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.responses import NinjaJSONEncoder
from ninja.schema import NinjaGenerateJsonSchema
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


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


# The error statuses any operation may answer (ADR 0006), each with the one error body.
# Declared in the OpenAPI document so that clients (and the fuzz tests' status-code check)
# know them; an operation's own declaration of one of them wins.
ERROR_RESPONSES = {
    400: "Invalid input (schema or domain rules)",
    401: "Authentication required",
    403: "The role does not allow this action",
    404: "Not found, or outside the caller's scope",
    429: "Too many attempts; locked out for a while",
    503: "The database is briefly unavailable; send the same request again",
}


def _renamed_refs(node, renames: dict[str, str]):
    if isinstance(node, dict):
        return {
            key: (
                REF_TEMPLATE.format(model=renames[value.rsplit("/", 1)[1]])
                if key == "$ref" and isinstance(value, str) and value.rsplit("/", 1)[1] in renames
                else _renamed_refs(value, renames)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_renamed_refs(item, renames) for item in node]
    return node


class UniqueNamesOpenAPISchema(OpenAPISchema):
    """ninja merges every model's $defs into components/schemas by class name, so two apps'
    `StaffOut` (or `ReportOut`, `ShiftList` …) became one, and operations documented another
    app's response (found by the fuzz tests). Here a definition whose name is taken by a
    different one is renamed (`StaffOut2`, …), with the references of that model."""

    def _create_schema_from_model(self, model, by_alias=True, remove_level=True, mode="validation"):
        if hasattr(model, "__ninja_flatten_map__"):
            return super()._create_schema_from_model(model, by_alias, remove_level, mode)
        schema = model.model_json_schema(
            ref_template=REF_TEMPLATE,
            by_alias=by_alias,
            schema_generator=NinjaGenerateJsonSchema,
            mode=mode,
        ).copy()
        renames: dict[str, str] = {}
        while True:  # a definition that refers to a renamed one differs too: repeat
            definitions = schema.get("$defs", {})
            clashes = {
                name: body
                for name, body in definitions.items()
                if name in self.schemas and self.schemas[name] != body and name not in renames
            }
            if not clashes:
                break
            for name in clashes:
                number = 2
                while f"{name}{number}" in self.schemas and self.schemas[
                    f"{name}{number}"
                ] != _renamed_refs(definitions[name], {**renames, name: f"{name}{number}"}):
                    number += 1
                renames[name] = f"{name}{number}"
            schema = _renamed_refs(schema, renames)
            schema["$defs"] = {renames.get(k, k): v for k, v in schema["$defs"].items()}
        if schema.get("$defs"):
            self.add_schema_definitions(schema.pop("$defs"))
        if remove_level and len(schema["properties"]) == 1:
            name, details = next(iter(schema["properties"].items()))
            return details, name in schema.get("required", {})
        return schema, True


class HuXiaoAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document has one component per schema (UniqueNamesOpenAPISchema)
    and lists the error answers of ADR 0006 on every operation."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        schema = UniqueNamesOpenAPISchema(self, path_prefix)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault(
            "ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if method not in {"get", "put", "post", "patch", "delete"}:
                    continue
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_RESPONSES.items():
                    # ninja keys the declared statuses by int; JSON makes them strings.
                    if status not in responses and str(status) not in responses:
                        responses[status] = {"description": description, "content": body}
        return schema


api = HuXiaoAPI(
    title="HuXiao API",
    version="1",
    urls_namespace="api",
    auth=[BearerAuth(), SessionAuth()],
    docs_url="/docs",
)


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
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        # Say what is wrong with the token a terminal sent, not which of the three it is.
        return error_response(
            request, 401, _("The token is not valid: unknown, revoked or expired.")
        )
    return error_response(request, 401, _("Authentication required."))


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request, exc):
    # The database went away (restarted, failed over, a full connection table): not a bug
    # and not the client's fault. 503 tells a box or app to send the same request again;
    # the Idempotency-Key makes that safe even if this one committed.
    logger.warning(
        "api database unavailable request_id=%s: %s", getattr(request, "request_id", ""), exc
    )
    response = error_response(
        request, 503, _("The service is briefly unavailable. Please try again in a moment.")
    )
    response["Retry-After"] = "2"
    return response


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
    from huxiao.reports.api import router as reports_router
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
    api.add_router("/", reports_router)
    _registered = True
    return api
