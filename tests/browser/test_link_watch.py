"""A quiet call is not a dead one: the page restarts ICE on silence only when nothing at all arrives.

Two visitors without camera or microphone exchange no media, only the data channel; the keepalives
must keep the page from restarting ICE while they wait for each other to type.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import launch, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Counted in the page from the moment the call connected.
COUNT_KEEPALIVES = """(() => {
  window.__keepalives = 0;
  window.alienmeet.dataChannel.addEventListener('message', (event) => {
    if (event.data.includes('"keepalive"')) window.__keepalives += 1;
  });
})()"""

ICE_CREDENTIALS = """(() => {
  const pc = window.alienmeet.peerConnection;
  const ufrag = (description) => (description.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1];
  return [ufrag(pc.localDescription), ufrag(pc.remoteDescription)];
})()"""


@pytest.fixture
def denied_browser(playwright_instance):
    # No automatic "Allow": the page offers text chat only.
    browser = launch(playwright_instance, fake_media=False)
    yield browser
    browser.close()


def text_only(page) -> None:
    page.get_by_role("button", name="Talk to Aliens").click()
    page.get_by_role("button", name="Text chat only").click()
    wait_js(page, "window.alienmeet.phase !== 'idle'")


def descriptions_sent(page) -> int:
    return sum('"description"' in frame for frame in page.frames_sent_to_server)


def test_call_without_media_is_not_restarted_while_nobody_types(visitor, denied_browser):
    alice = visitor(target_browser=denied_browser)
    bob = visitor(target_browser=denied_browser)
    text_only(alice)
    text_only(bob)
    for page in (alice, bob):
        wait_js(page, "window.alienmeet.phase === 'connected' && window.alienmeet.dataChannel.readyState === 'open'")
        page.evaluate(COUNT_KEEPALIVES)
    credentials = {page: page.evaluate(ICE_CREDENTIALS) for page in (alice, bob)}
    offers = {page: descriptions_sent(page) for page in (alice, bob)}

    # Six seconds of keepalives: four times the silence after which the page would restart ICE.
    for page in (alice, bob):
        wait_js(page, "window.__keepalives >= 12", timeout=15000)

    for page in (alice, bob):
        assert page.evaluate(ICE_CREDENTIALS) == credentials[page], "ICE restarted in a quiet call"
        assert descriptions_sent(page) == offers[page], "a new offer or answer went out in a quiet call"
        assert page.evaluate("window.alienmeet.peerConnection.connectionState") == "connected"
