from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Router, Schema

from huxiao.accounts import two_factor
from huxiao.accounts.services import LoginLocked, api_token_issue, login_check
from huxiao.core.api import ErrorOut, error_response
from huxiao.core.names import person_name
from huxiao.core.scoping import memberships_of

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str
    # The authenticator's code (or a recovery code), for accounts with two-factor on.
    otp: str | None = None


class TokenOut(Schema):
    token: str


def _locked(request):
    return error_response(
        request,
        429,
        _("Too many failed attempts. Try again in %(minutes)s minutes.")
        % {"minutes": max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)},
    )


@router.post(
    "/auth/token", auth=None, response={200: TokenOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut}
)
def token_create(request, payload: TokenIn):
    """A bearer token for a username and password; accounts with two-factor
    authentication also send `otp`. Without it the answer is 401 with errors.otp, so a
    client knows to ask for the code and call again."""
    from huxiao.core.middleware import client_ip

    try:
        user = login_check(request=request, username=payload.username, password=payload.password)
    except LoginLocked:
        return _locked(request)
    if user is None:
        return error_response(request, 401, _("Wrong username or password."))
    if two_factor.two_factor_required(user):
        if not two_factor.two_factor_enrolled(user):
            return error_response(
                request,
                403,
                _("Two-factor authentication must be set up first: log in once on the web."),
                {"otp": [_("Not set up.")]},
            )
        if not payload.otp:
            return error_response(
                request,
                401,
                _("Enter the code from your authenticator app."),
                {"otp": [_("This field is required.")]},
            )
        try:
            two_factor.two_factor_verify(user=user, code=payload.otp, ip=client_ip(request))
        except LoginLocked:
            return _locked(request)
        except two_factor.TwoFactorError:
            return error_response(
                request, 401, _("Wrong or already used code."), {"otp": [_("Wrong code.")]}
            )
    return {"token": api_token_issue(user=user)}


class MembershipOut(Schema):
    organization_id: int
    organization_name: str
    organization_kind: str
    role: str
    role_label: str


class MeOut(Schema):
    kind: str
    id: int | None
    username: str
    name: str
    memberships: list[MembershipOut]
    school_id: int | None = None


@router.get("/me", response=MeOut)
def me(request):
    principal = request.auth
    if getattr(principal, "is_device", False):
        return {
            "kind": "device",
            "id": principal.device_id,
            "username": principal.name,
            "name": principal.name,
            "memberships": [],
            "school_id": principal.school_id,
        }
    return {
        "kind": "user",
        "id": principal.pk,
        "username": principal.get_username(),
        "name": person_name(principal),
        "memberships": [
            {
                "organization_id": m.organization_id,
                "organization_name": m.organization.name,
                "organization_kind": m.organization.kind,
                "role": m.role,
                "role_label": str(m.get_role_display()),
            }
            for m in memberships_of(principal)
        ],
    }
