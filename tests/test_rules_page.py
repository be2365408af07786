"""The rules: an article linked from every page, and shown in the call page's gate with their version."""

import pytest

pytestmark = pytest.mark.django_db


def test_rules_article_is_linked_from_every_page(client):
    for url in ("/", "/articles/", "/meet/"):
        html = client.get(url).content.decode()
        assert '<a href="/articles/rules/">Rules</a>' in html, url
    page = client.get("/articles/rules/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "You must be 18 or older" in html
    assert "Looks under 18" in html


def test_call_page_holds_the_rules_gate_with_the_current_version(client, settings):
    settings.ADMISSION = {**settings.ADMISSION, "RULES_VERSION": "2031-01-02"}
    html = client.get("/meet/").content.decode()
    assert '<dialog id="rules-dialog"' in html
    assert 'aria-labelledby="rules-title"' in html
    assert 'data-version="2031-01-02"' in html
    assert "You must be 18 or older" in html
    assert "I am 18 or older and I accept the rules." in html
