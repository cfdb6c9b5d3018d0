from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from huxiao.accounts.services import LoginLocked, login_check


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=256)


@never_cache
@csrf_protect
def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
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
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            form.add_error(
                None,
                _("Too many failed attempts. Try again in %(minutes)s minutes.")
                % {"minutes": minutes},
            )
            status = 429
        else:
            if user is None:
                form.add_error(None, _("Wrong username or password."))
                status = 400
            else:
                login(request, user)
                return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
