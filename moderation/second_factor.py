"""A second factor for staff who may see evidence or decide: a time-based code from an authenticator app
(django-otp's TOTP device, enrolled from a QR code drawn by segno), and recovery codes for a lost phone
(django-otp's static device).

The password login stays Django's own (with the address throttle of moderation/login_throttle.py);
this middleware then keeps such staff on the second-factor pages until the session is verified. A staff
member who has no device yet, such as a superuser made with ``createsuperuser``, is sent to enrol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_otp
import segno
from django import forms
from django.contrib import admin
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from moderation import login_throttle

RECOVERY_CODES = 10
# Pages a staff member must reach before the second factor is given.
OPEN_PATHS = ("/admin/login/", "/admin/logout/", "/admin/second-factor/", "/admin/jsi18n/")


def needs_second_factor(user: AbstractBaseUser | Any) -> bool:
    """Whoever may see evidence or decide a case; staff who only read the statistics log in as before."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.has_perm("moderation.view_evidence") or user.has_perm("moderation.decide")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("admin:index")


class SecondFactorMiddleware:
    """Keeps an unverified staff member who needs a second factor off every other admin page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The path the URLs resolve, without any prefix the site is mounted under.
        path = request.path_info
        user = getattr(request, "user", None)
        if (
            path.startswith("/admin/")
            and not path.startswith(OPEN_PATHS)
            and user is not None
            and needs_second_factor(user)
            and not user.is_verified()
        ):
            if path.endswith(".json"):
                return HttpResponseForbidden(gettext("Log in with your second factor first."))
            step = "verify" if django_otp.user_has_device(user) else "enrol"
            return HttpResponseRedirect(
                f"{reverse('second-factor-' + step)}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, "next": _safe_next(request), **extra}


def _refuse_if_locked(request: HttpRequest, form: CodeForm) -> bool:
    if login_throttle.is_locked(request):
        form.add_error(None, gettext("Too many wrong codes or passwords from your network. Please try again later."))
        return True
    return False


def verify(request: HttpRequest) -> HttpResponse:
    """Ask for the code of the staff member's authenticator app, or one of their recovery codes."""
    user = request.user
    if not needs_second_factor(user) or user.is_verified():
        return HttpResponseRedirect(_safe_next(request))
    if not django_otp.user_has_device(user):
        return HttpResponseRedirect(f"{reverse('second-factor-enrol')}?{urlencode({'next': _safe_next(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not _refuse_if_locked(request, form):
        code = form.cleaned_data["code"].replace(" ", "")
        # Each device is tried on its own, so its own throttle (which django-otp keeps) applies.
        for device in django_otp.devices_for_user(user):
            if django_otp.verify_token(user, device.persistent_id, code):
                django_otp.login(request, device)
                login_throttle.forget(request)
                return HttpResponseRedirect(_safe_next(request))
        login_throttle.record_failure(request)
        form.add_error("code", gettext("That code is not right, or was already used."))
    context = _context(request, gettext("Second factor"), form=form)
    return TemplateResponse(request, "admin/second_factor/verify.html", context)


def _qr_svg(url: str) -> str:
    # segno draws the QR code as SVG markup in pure Python: no image library, nothing to fetch.
    return segno.make(url, error="m").svg_inline(scale=5, dark="#000", light="#fff", title=gettext("QR code"))


def enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app; a confirmed code also gives the recovery codes, shown once."""
    user = request.user
    if not needs_second_factor(user):
        return HttpResponseRedirect(_safe_next(request))
    if django_otp.user_has_device(user) and not user.is_verified():
        # Adding a device needs the existing factor first; otherwise a stolen password would do.
        return HttpResponseRedirect(f"{reverse('second-factor-verify')}?{urlencode({'next': _safe_next(request)})}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=gettext("Authenticator app"), confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not _refuse_if_locked(request, form):
        if device.verify_token(form.cleaned_data["code"].replace(" ", "")):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _new_recovery_codes(user)
            django_otp.login(request, device)
            context = _context(request, gettext("Recovery codes"), codes=codes)
            response = TemplateResponse(request, "admin/second_factor/recovery_codes.html", context)
            response["Cache-Control"] = "private, no-store"
            return response
        login_throttle.record_failure(request)
        form.add_error("code", gettext("That code is not right. Check the time on your phone and try again."))
    secret = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
    context = _context(
        request,
        gettext("Set up your second factor"),
        form=form,
        qr=_qr_svg(device.config_url),
        secret=secret,
    )
    response = TemplateResponse(request, "admin/second_factor/enrol.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


def _new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Replace the staff member's recovery codes; each works once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=gettext("Recovery codes"))
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
