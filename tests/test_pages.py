import pytest

pytestmark = pytest.mark.django_db


def test_landing_page(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "AlienMeet" in html
    assert "No borders. Just people." in html
    assert '<a class="button button-primary button-big" href="/meet/">Talk to Aliens</a>' in html
    assert "Latest articles" in html
    assert 'href="/articles/privacy/"' in html


def test_landing_page_shows_newest_articles(client, write_article):
    for day in range(1, 6):
        write_article(f"day-{day}", f"title: Day {day}\ndate: 2026-11-0{day}")
    html = client.get("/").content.decode()
    assert "Day 5" in html and "Day 4" in html and "Day 3" in html
    assert "Day 2" not in html


def test_every_page_shares_the_layout(client):
    for url in ("/", "/articles/", "/articles/about-alienmeet/", "/meet/"):
        html = client.get(url).content.decode()
        assert 'class="site-header"' in html and 'class="site-footer"' in html, url
        assert '<link rel="stylesheet" href="/static/css/site.css">' in html, url


def test_pages_load_nothing_from_other_hosts(client):
    for url in ("/", "/articles/how-webrtc-works/", "/meet/"):
        html = client.get(url).content.decode()
        for attribute in ('src="http', "src='http", 'href="http', "//cdn", "fonts.googleapis"):
            assert attribute not in html.replace('href="http://testserver', ""), url


def test_static_files_are_served(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)


def test_unknown_url_is_a_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Lost in space" in response.content.decode()
