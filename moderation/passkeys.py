"""Passkeys as a second factor (django-otp-webauthn), bound to the host the staff member is on.

The relying party and the expected origin come from the request's host, which Django has already checked
against ALLOWED_HOSTS, so one setting (the hosts) serves every deployment and the tests' random ports.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_otp_webauthn.helpers import WebAuthnHelper


def relying_party_id(request: HttpRequest) -> str:
    host = request.get_host()
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


class PasskeyHelper(WebAuthnHelper):
    def get_allowed_origins(self) -> list[str]:
        return [f"{self.request.scheme}://{self.request.get_host()}"]
