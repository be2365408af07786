"""Staff login throttle: after a few wrong passwords from one address, that address waits.

Counted in Django's cache (Redis when the site runs on Redis, so every process sees the
same count) under a keyed hash of the address, never the address itself, and only for
as long as the lock-out lasts. django-axes was weighed and not used: its database handler
stores the raw address (in a column PostgreSQL types as ``inet``, which cannot hold a hash)
with the username and browser of every attempt; its cache handler stores nothing, but the app
must still be installed, which adds those tables to the schema (the privacy article lists every
column the site has), and it logs each failure with the address unless told not to. A few
dozen lines of our own keep the promise more plainly.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext_lazy

from moderation.addresses import address_hash, client_ip

logger = logging.getLogger("alienmeet.admin")


def request_address(request: HttpRequest) -> str | None:
    scope = getattr(request, "scope", None)
    if scope is None:  # a WSGI request (the test client): the same rules on its META
        remote = request.META.get("REMOTE_ADDR")
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
        scope = {
            "client": (remote, 0) if remote else None,
            "headers": [(b"x-forwarded-for", forwarded.encode("latin-1"))] if forwarded else [],
        }
    return client_ip(scope)


def _keys(request: HttpRequest) -> tuple[str, str]:
    hashed = address_hash(request_address(request)) or "unknown"
    return f"admin-login:failures:{hashed}", f"admin-login:locked:{hashed}"


def is_locked(request: HttpRequest) -> bool:
    return cache.get(_keys(request)[1]) is not None


def record_failure(request: HttpRequest) -> None:
    conf = settings.ADMIN_LOGIN
    failures, locked = _keys(request)
    # Failures count within one lock-out period of the first; Redis increments atomically.
    if cache.add(failures, 1, conf["LOCKOUT"]):
        count = 1
    else:
        try:
            count = cache.incr(failures)
        except ValueError:  # expired between add and incr
            cache.add(failures, 1, conf["LOCKOUT"])
            count = 1
    if count >= conf["FAILURES"]:
        cache.set(locked, 1, conf["LOCKOUT"])
        cache.delete(failures)
        # Staff should know someone is guessing; which address or account is nobody's business here.
        logger.warning("event=admin_login_locked failures=%d lockout=%ds", count, conf["LOCKOUT"])


def forget(request: HttpRequest) -> None:
    cache.delete(_keys(request)[0])


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": ngettext_lazy(
            "Too many failed logins from your network. Please try again in %(minutes)s minute.",
            "Too many failed logins from your network. Please try again in %(minutes)s minutes.",
            "minutes",
        ),
    }

    def clean(self) -> dict[str, Any]:
        if self.request is not None and is_locked(self.request):
            # Refused before the password is checked: a guess made now tells nothing.
            minutes = max(1, round(settings.ADMIN_LOGIN["LOCKOUT"] / 60))
            raise forms.ValidationError(self.error_messages["locked"], code="locked", params={"minutes": minutes})
        try:
            cleaned = super().clean()
        except forms.ValidationError as error:
            if self.request is not None and any(e.code == "invalid_login" for e in error.error_list):
                record_failure(self.request)
            raise
        if self.request is not None:
            forget(self.request)
        return cleaned
