from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from articles import loader
from articles.loader import Article, articles_for, articles_tagged, get_article


def _translation_links(request: HttpRequest, article: Article) -> dict[str, Any]:
    versions = loader.translations(article.slug)
    return {
        "translations": [
            {
                "language": version.language,
                "name": version.language_name,
                "url": version.get_language_url(),
                "absolute_url": request.build_absolute_uri(version.get_language_url()),
            }
            for version in versions
        ],
        "default_url": request.build_absolute_uri(article.get_absolute_url()),
        # Every address of the hreflang set names itself as canonical; pointing the shared address
        # at one language's address would contradict its x-default alternate.
        "canonical_url": request.build_absolute_uri(request.path),
        # The switcher comes back to the shared address, which follows the language chosen.
        "switch_next": article.get_absolute_url(),
    }


def article_list(request: HttpRequest) -> HttpResponse:
    return render(request, "articles/list.html", {"articles": articles_for(translation.get_language())})


def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The shared address: the visitor's language when this article exists in it, else English with a note."""
    language = translation.get_language()
    versions = loader.translations(slug)
    if not versions:
        raise Http404("No such article.")
    by_language = {version.language: version for version in versions}
    article = by_language.get(language) or by_language.get(loader.ORIGINAL_LANGUAGE) or versions[0]
    context = {"article": article, "fallback": article.language != language, **_translation_links(request, article)}
    return render(request, "articles/detail.html", context)


def article_in_language(request: HttpRequest, language: str, slug: str) -> HttpResponse:
    """One version at its own address, the whole page in its language (what hreflang alternates point to)."""
    article = get_article(slug, language)
    if article is None:
        raise Http404("No such article in this language.")
    with translation.override(language):
        response = render(request, "articles/detail.html", {"article": article, **_translation_links(request, article)})
    response.headers["Content-Language"] = language
    return response


def article_tag(request: HttpRequest, tag: str) -> HttpResponse:
    found, articles = articles_tagged(tag, translation.get_language())
    if found is None:
        raise Http404("No article has this tag.")
    return render(request, "articles/list.html", {"articles": articles, "tag": found})
