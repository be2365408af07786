from __future__ import annotations

import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext

from articles.loader import ORIGINAL_LANGUAGE, Article, articles_in


class LatestArticlesFeed(Feed):
    """The English articles; each language has its own feed (LanguageFeed)."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, language: str = ORIGINAL_LANGUAGE) -> str:
        return language

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The feed's xml:lang is the active language: make it the feed's own, whoever asks.
        with translation.override(kwargs.get("language", ORIGINAL_LANGUAGE)):
            return super().__call__(request, *args, **kwargs)

    def title(self, language: str) -> str:
        return gettext("AlienMeet articles")

    def subtitle(self, language: str) -> str:
        return gettext("No borders. Just people. Notes on random video chat, WebRTC and privacy.")

    def link(self, language: str) -> str:
        return reverse("articles:list")

    def items(self, language: str) -> list[Article]:
        return articles_in(language)

    def item_link(self, item: Article) -> str:
        return item.get_absolute_url() if item.language == ORIGINAL_LANGUAGE else item.get_language_url()

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.summary

    def item_author_name(self, item: Article) -> str:
        return item.author

    def item_pubdate(self, item: Article) -> datetime.datetime | None:
        if item.date is None:
            return None
        return datetime.datetime.combine(item.date, datetime.time(), tzinfo=datetime.UTC)

    def item_categories(self, item: Article) -> list[str]:
        return [tag.name for tag in item.tags]


class LanguageFeed(LatestArticlesFeed):
    """``/articles/<language>/feed/``: the articles written in that language."""
