"""Markdown to safe HTML: python-markdown renders, nh3 sanitizes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import markdown
import nh3
from django.utils import translation
from django.utils.translation import gettext
from markdown.extensions.toc import slugify_unicode

WORDS_PER_MINUTE = 200

_HEADINGS = {f"h{level}" for level in range(1, 7)}
_CLEANER = nh3.Cleaner(
    tags=set(nh3.ALLOWED_TAGS) | _HEADINGS | {"pre", "code", "span", "div", "img", "hr", "p", "br"},
    clean_content_tags={"script", "style"},
    attributes={
        **{heading: {"id"} for heading in _HEADINGS},
        "a": {"href", "title", "class"},
        "img": {"src", "alt", "title", "width", "height"},
        "code": {"class"},
        "pre": {"class"},
        "span": {"class"},
        "div": {"class"},
        "th": {"colspan", "rowspan"},
        "td": {"colspan", "rowspan"},
    },
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
)
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Rendered:
    html: str
    toc_html: str
    word_count: int

    @property
    def reading_minutes(self) -> int:
        return max(1, math.ceil(self.word_count / WORDS_PER_MINUTE))


def sanitize(html: str) -> str:
    """Keep what articles need (heading ids, code classes, images, links); drop the rest."""
    return _CLEANER.clean(html)


def render_markdown(text: str, language: str = "en") -> Rendered:
    """The article's HTML; the few words the renderer adds itself are in the article's ``language``."""
    with translation.override(language):
        # Translators: the tooltip of the "#" link beside each heading of an article.
        permalink_title = gettext("Link to this section")
    # A Markdown instance keeps state between conversions, so each render gets its own.
    converter = markdown.Markdown(
        extensions=["fenced_code", "codehilite", "tables", "toc", "sane_lists"],
        extension_configs={
            "codehilite": {"css_class": "highlight", "guess_lang": False},
            "toc": {
                "slugify": slugify_unicode,
                "toc_depth": "2-3",
                "permalink": "#",
                "permalink_title": permalink_title,
            },
        },
        output_format="html",
    )
    html = sanitize(converter.convert(text))
    toc_html = sanitize(getattr(converter, "toc", "")) if getattr(converter, "toc_tokens", []) else ""
    words = len(_TAGS.sub(" ", html).split())
    return Rendered(html=html, toc_html=toc_html, word_count=words)
