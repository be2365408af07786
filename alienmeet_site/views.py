from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from articles.loader import articles_for

LATEST_ON_HOME = 3


def home(request: HttpRequest) -> HttpResponse:
    latest = sorted(
        articles_for(translation.get_language()), key=lambda a: a.date.toordinal() if a.date else 0, reverse=True
    )
    return render(request, "home.html", {"latest_articles": latest[:LATEST_ON_HOME]})
