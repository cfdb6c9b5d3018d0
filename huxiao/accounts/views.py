from __future__ import annotations

import time

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, login, logout
from django.shortcuts import redirect, render, resolve_url
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from huxiao.accounts import two_factor
from huxiao.accounts.services import LoginLocked, login_check
from huxiao.core.redirects import local_url

# The password was right, the second factor is still to come: who, since when, and where to
# go afterwards. The user is not logged in until the code is verified.
PENDING_KEY = "hx_2fa_pending"


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=256)


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64)


def _locked_message() -> str:
    minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
    return _("Too many failed attempts. Try again in %(minutes)s minutes.") % {"minutes": minutes}


def _pending_user(request):
    """The user whose password was right within the last few minutes, or None."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, ""
    if time.time() - pending.get("at", 0) > settings.TWO_FACTOR_PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, ""
    user = get_user_model().objects.filter(pk=pending.get("uid"), is_active=True).first()
    if user is not None:
        user.backend = pending.get("backend") or settings.AUTHENTICATION_BACKENDS[0]
    return user, pending.get("next", "")


def _finish_login(request, user, next_url: str):
    request.session.pop(PENDING_KEY, None)
    login(request, user)
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


@never_cache
@csrf_protect
def login_view(request):
    # A path on this site only ("-1" after a right password was a server error).
    next_url = local_url(request, request.POST.get("next") or request.GET.get("next"))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = login_check(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except LoginLocked:
            form.add_error(None, _locked_message())
            status = 429
        else:
            if user is None:
                form.add_error(None, _("Wrong username or password."))
                status = 400
            elif two_factor.two_factor_required(user):
                request.session.cycle_key()
                request.session[PENDING_KEY] = {
                    "uid": user.pk,
                    "at": int(time.time()),
                    "next": next_url,
                    "backend": getattr(user, "backend", ""),
                }
                if two_factor.two_factor_enrolled(user):
                    return redirect("accounts:two_factor")
                return redirect("accounts:two_factor_enrol")
            else:
                return _finish_login(request, user, next_url)
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


def _expired(request):
    request.session.pop(PENDING_KEY, None)
    notice = _("The login timed out. Enter your password again.")
    return render(
        request,
        "accounts/login.html",
        {"form": LoginForm(), "next": "", "notice": notice},
        status=400,
    )


@never_cache
@csrf_protect
def two_factor_view(request):
    """Second step of the login: a code from the authenticator, or a recovery code."""
    from huxiao.core.middleware import client_ip

    user, next_url = _pending_user(request)
    if user is None:
        return _expired(request) if request.method == "POST" else redirect("accounts:login")
    if not two_factor.two_factor_enrolled(user):
        return redirect("accounts:two_factor_enrol")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            used = two_factor.two_factor_verify(
                user=user, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except LoginLocked:
            form.add_error(None, _locked_message())
            status = 429
        except two_factor.TwoFactorError:
            form.add_error("code", _("Wrong or already used code."))
            status = 400
        else:
            response = _finish_login(request, user, next_url)
            if used == "recovery":
                from django.contrib import messages

                messages.warning(
                    request,
                    _(
                        "You logged in with a recovery code; %(left)s remain. Ask an "
                        "administrator to reset two-factor authentication if your "
                        "authenticator is lost."
                    )
                    % {"left": two_factor.recovery_codes_left(user)},
                )
            return response
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/two_factor.html", {"form": form}, status=status)


def _qr_svg(uri: str) -> str:
    # Inline SVG made on the server: no script, no network (segno ships with the project).
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


@never_cache
@csrf_protect
def two_factor_enrol_view(request):
    """First login of an account that must use two-factor: show the secret, confirm with
    a code, show the recovery codes once, and only then log in."""
    from huxiao.core.middleware import client_ip

    user, next_url = _pending_user(request)
    if user is None:
        return _expired(request) if request.method == "POST" else redirect("accounts:login")
    if two_factor.two_factor_enrolled(user):
        return redirect("accounts:two_factor")
    secret = two_factor.two_factor_enrol_start(user=user)
    uri = two_factor.provisioning_uri(user, secret)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.two_factor_enrol_confirm(
                user=user, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except LoginLocked:
            form.add_error(None, _locked_message())
            status = 429
        except two_factor.TwoFactorError:
            form.add_error("code", _("Wrong code. Check the time on your phone and try again."))
            status = 400
        else:
            _finish_login(request, user, next_url)
            return render(
                request,
                "accounts/two_factor_recovery.html",
                {"codes": codes, "next": next_url or resolve_url(settings.LOGIN_REDIRECT_URL)},
            )
    elif request.method == "POST":
        status = 400
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        request,
        "accounts/two_factor_enrol.html",
        {"form": form, "secret": grouped, "uri": uri, "qr_svg": _qr_svg(uri)},
        status=status,
    )


@require_POST
def logout_view(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
