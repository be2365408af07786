from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from articles.loader import all_articles

LATEST_ON_HOME = 3


def home(request: HttpRequest) -> HttpResponse:
    latest = sorted(all_articles(), key=lambda a: a.date.toordinal() if a.date else 0, reverse=True)
    return render(request, "home.html", {"latest_articles": latest[:LATEST_ON_HOME]})
