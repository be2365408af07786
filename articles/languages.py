"""The site's languages as a URL segment: ``/articles/es/privacy/`` names one version of an article."""

from __future__ import annotations

import re

from django.conf import settings


class LanguageConverter:
    # Only the configured codes match, so no other path is ever read as a language.
    regex = "|".join(re.escape(code) for code, _name in sorted(settings.LANGUAGES, key=lambda lang: -len(lang[0])))

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
