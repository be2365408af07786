from __future__ import annotations

import datetime

from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed

from articles.loader import Article, all_articles


class LatestArticlesFeed(Feed):
    feed_type = Atom1Feed
    title = "AlienMeet articles"
    subtitle = "No borders. Just people. Notes on random video chat, WebRTC and privacy."
    link = reverse_lazy("articles:list")

    def items(self) -> list[Article]:
        return all_articles()

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
