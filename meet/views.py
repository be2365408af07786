from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from articles.loader import get_article
from meet.gate.admission import rules_version

RULES_SLUG = "rules"


def call_page(request: HttpRequest) -> HttpResponse:
    # The rules are shown in the page itself, so the visitor can accept them before the camera is asked for.
    context = {
        # In the visitor's language when translated; the English original otherwise.
        "rules": get_article(RULES_SLUG, get_language()) or get_article(RULES_SLUG),
        "rules_version": rules_version(),
        "shield_test_hook": settings.SHIELD_TEST_HOOK,
    }
    return render(request, "meet/call.html", context)
