from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def call_page(request: HttpRequest) -> HttpResponse:
    return render(request, "meet/call.html", {"shield_test_hook": settings.SHIELD_TEST_HOOK})
