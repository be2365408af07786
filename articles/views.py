from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from articles.loader import all_articles, articles_tagged, get_article


def article_list(request: HttpRequest) -> HttpResponse:
    return render(request, "articles/list.html", {"articles": all_articles()})


def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_article(slug)
    if article is None:
        raise Http404("No such article.")
    return render(request, "articles/detail.html", {"article": article})


def article_tag(request: HttpRequest, tag: str) -> HttpResponse:
    found, articles = articles_tagged(tag)
    if found is None:
        raise Http404("No article has this tag.")
    return render(request, "articles/list.html", {"articles": articles, "tag": found})
