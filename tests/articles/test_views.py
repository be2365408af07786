import logging

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(write_article):
    write_article(
        "hello",
        """
        title: Hello & welcome
        author: Zorg
        date: 2026-11-01
        tags: webrtc, privacy
        index: 1
        description: A friendly hello.
        oneLiner: Say hi to the aliens.
        """,
        "## Start here\n\nSome text.\n\n## Then this\n\nMore.\n",
    )
    write_article("other", "title: Other\ndate: 2026-11-02\ntags: [privacy]\ndescription: Second.")
    write_article("broken", "title: Broken\nindex: abc")


def test_list_shows_good_articles_in_order_with_details(client, library):
    response = client.get("/articles/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Hello &amp; welcome") < html.index("Other")
    assert "Zorg" in html and "1 November 2026" in html and "A friendly hello." in html
    assert 'href="/articles/tags/webrtc/"' in html
    assert "Broken" not in html


def test_detail_has_meta_toc_and_reading_time(client, library):
    html = client.get("/articles/hello/").content.decode()
    assert "<title>Hello &amp; welcome · AlienMeet</title>" in html
    assert '<meta name="description" content="A friendly hello.">' in html
    assert '<meta property="og:title" content="Hello &amp; welcome">' in html
    assert '<meta property="og:description" content="Say hi to the aliens.">' in html
    assert '<meta name="twitter:title" content="Hello &amp; welcome">' in html
    assert 'href="#start-here"' in html and '<h2 id="start-here">' in html
    assert "1 min read" in html
    assert "By Zorg" in html


def test_tag_page_lists_only_tagged_articles(client, library):
    html = client.get("/articles/tags/webrtc/").content.decode()
    assert "Hello &amp; welcome" in html and "Other" not in html
    html = client.get("/articles/tags/privacy/").content.decode()
    assert "Hello &amp; welcome" in html and "Other" in html
    assert client.get("/articles/tags/nothing-has-this/").status_code == 404


def test_broken_article_is_404_and_logged(client, library, caplog):
    with caplog.at_level(logging.WARNING, logger="alienmeet.articles"):
        response = client.get("/articles/broken/")
    assert response.status_code == 404
    assert "broken.md" in caplog.text and "index" in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "/articles/no-such-article/",
        "/articles/../alienmeet_site/settings/",
        "/articles/..%2F..%2Fetc%2Fpasswd/",
        "/articles/%2e%2e/",
        "/articles/hello.md/",
    ],
)
def test_unknown_or_escaping_slugs_are_404(client, library, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()


def test_404_page_is_friendly(client, library):
    response = client.get("/articles/nope/")
    assert "Lost in space" in response.content.decode()


def test_check_names_broken_file_and_field(library):
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    message = str(raised.value)
    assert "articles.E001" in message
    assert "broken.md" in message and "'index'" in message


def test_check_passes_with_good_articles(write_article):
    write_article("fine", "title: Fine")
    call_command("check")


def test_feed_lists_every_article(client, library):
    response = client.get("/articles/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    xml = response.content.decode()
    assert "http://testserver/articles/hello/" in xml
    assert "http://testserver/articles/other/" in xml
    assert "broken" not in xml
    assert "A friendly hello." in xml


def test_sitemap_lists_landing_page_and_every_article(client, library):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    for url in ("http://testserver/", "http://testserver/articles/hello/", "http://testserver/articles/other/"):
        assert f"<loc>{url}</loc>" in xml
    assert "<lastmod>2026-11-01</lastmod>" in xml
    assert "broken" not in xml
