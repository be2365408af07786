"""A quiet call is not a dead one: the page restarts ICE on silence only when nothing at all arrives.

Two visitors without camera or microphone exchange no media, only the data channel; the keepalives
must keep the page from restarting ICE while they wait for each other to type.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import by_politeness, launch, start_call, wait_js

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


def media_call(visitor):
    """Two visitors with the fake camera in a call, each having heard the other's keepalives; returns
    (polite, impolite)."""
    alice = visitor(prepare=lambda page: page.add_init_script(COUNT_KEY_FRAME_REQUESTS))
    bob = visitor(prepare=lambda page: page.add_init_script(COUNT_KEY_FRAME_REQUESTS))
    start_call(alice, bob, channel_open=True)
    for page in (alice, bob):
        page.evaluate(COUNT_KEEPALIVES)
    for page in (alice, bob):
        wait_js(page, "window.__keepalives >= 2", timeout=15000)
    return by_politeness(alice, bob)


# Calls of RTCRtpSender.setParameters that ask the encoder for a key frame, counted in the page.
COUNT_KEY_FRAME_REQUESTS = """(() => {
  window.__keyFramesAsked = 0;
  window.__keyFrameAskedAt = -Infinity;
  const setParameters = RTCRtpSender.prototype.setParameters;
  RTCRtpSender.prototype.setParameters = function (parameters, options) {
    if (options && (options.encodingOptions || []).some((o) => o && o.keyFrame)) {
      window.__keyFramesAsked += 1;
      window.__keyFrameAskedAt = performance.now();
    }
    return setParameters.call(this, parameters, options);
  };
})()"""

KEY_FRAMES_SENT = """(async () => {
  let frames = 0;
  (await window.alienmeet.peerConnection.getStats()).forEach((r) => {
    if (r.type === 'outbound-rtp' && r.kind === 'video') frames += r.keyFramesEncoded || 0;
  });
  return frames;
})()"""

SELECTED_PAIR = """(async () => {
  let id = null;
  (await window.alienmeet.peerConnection.getStats()).forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) id = r.selectedCandidatePairId;
  });
  return id;
})()"""


def test_a_network_change_the_device_reports_restarts_ice_at_once(visitor):
    # A phone that moves from Wi-Fi to mobile data says so (`online`, or a new navigator.connection
    # type): the page looks for a new path at once instead of waiting for the silence.
    polite, impolite = media_call(visitor)
    ufrag = impolite.evaluate(ICE_CREDENTIALS)[0]
    asked = sum('"restart":true' in frame.replace(" ", "") for frame in polite.frames_sent_to_server)
    polite.evaluate("window.dispatchEvent(new Event('online'))")
    # The polite page asks the impolite one for the restart, which offers it.
    wait_js(impolite, f"{ICE_CREDENTIALS}[0] !== {ufrag!r}", timeout=15000)
    assert sum('"restart":true' in frame.replace(" ", "") for frame in polite.frames_sent_to_server) == asked + 1
    for page in (polite, impolite):
        wait_js(page, "window.alienmeet.peerConnection.connectionState === 'connected'", timeout=15000)


def test_a_new_path_starts_with_a_key_frame(visitor):
    # After a network change the stranger's decoder waits for a key frame, and its own request for one
    # may have been lost on the dead path: each page sends one of its own accord on a new path.
    polite, impolite = media_call(visitor)
    # A page sends at most one key frame of its own every 2 s: one sent a moment ago (the stranger heard
    # again after a pause of a loaded machine) must not stand in for the one this restart brings, so
    # the restart comes once each page's last one is that old.
    for page in (polite, impolite):
        wait_js(page, "performance.now() - window.__keyFrameAskedAt > 2000", timeout=10000)
    pairs = {page: page.evaluate(SELECTED_PAIR) for page in (polite, impolite)}
    key_frames = {page: page.evaluate(KEY_FRAMES_SENT) for page in (polite, impolite)}
    asked = {page: page.evaluate("window.__keyFramesAsked") for page in (polite, impolite)}
    # A page starts no restart within 2 s of one under way: on a loaded machine its own watch may
    # have just restarted (a second without frames), so the restart is asked again until both pages
    # are on a new path.
    for _attempt in range(6):
        impolite.evaluate("window.alienmeet.restartIce()")
        try:
            wait_js(impolite, f"{SELECTED_PAIR}.then((id) => id && id !== {pairs[impolite]!r})", timeout=4000)
            wait_js(polite, f"{SELECTED_PAIR}.then((id) => id && id !== {pairs[polite]!r})", timeout=4000)
            break
        except AssertionError:
            continue
    for page in (polite, impolite):
        wait_js(page, f"{SELECTED_PAIR}.then((id) => id && id !== {pairs[page]!r})", timeout=5000)
    for page in (polite, impolite):
        wait_js(page, f"window.__keyFramesAsked > {asked[page]}", timeout=10000)
        wait_js(page, f"{KEY_FRAMES_SENT}.then((frames) => frames > {key_frames[page]})", timeout=10000)
