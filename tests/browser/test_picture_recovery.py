"""Both pages restart ICE at once (both networks changed): the stranger's picture must move again on both.

In this Chromium, a polite page that rolls back its own offer to apply the stranger's (perfect
negotiation's answer to two crossing offers) keeps decoding the stranger's video but never shows
it again. The page avoids it (only the impolite side offers an ICE restart, the other asks it to),
and its picture watchdog repairs a frozen picture anyway. Measured in what the visitor sees: frames
the <video> presents (requestVideoFrameCallback), not only frames decoded.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from tests.browser.conftest import (
    FRAMES_DECODED,
    PAINTED_FRAMES_SCRIPT,
    by_politeness,
    painted_frames,
    remote_frames,
    start_call,
    wait_for_painted_frames,
    wait_for_remote_video,
    wait_js,
)

# A call, restarts and a frozen picture on a loaded 2-core machine take longer than the default limit.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

# Offers applied while this page had an offer of its own out: a rollback (perfect negotiation's
# polite side), counted in window.__rollbacks.
COUNT_ROLLBACKS = """
(() => {
  window.__rollbacks = 0;
  const apply = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (description, ...rest) {
    const offer = description && description.type === 'offer';
    if (offer && this.signalingState === 'have-local-offer') window.__rollbacks += 1;
    return apply.call(this, description, ...rest);
  };
})();
"""

# Offers this page sends wait window.__holdOffersMs before they leave (0: none), as a restart offer
# does that a dead socket swallowed and the page sends again once the stranger has resumed.
HOLD_OFFERS = """
(() => {
  window.__holdOffersMs = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const offer = typeof data === 'string' && /"type":\\s*"offer"/.test(data);
    if (offer && window.__holdOffersMs > 0) setTimeout(() => send.call(this, data), window.__holdOffersMs);
    else send.call(this, data);
  };
})();
"""

LOCAL_UFRAG = "(window.alienmeet.peerConnection.localDescription.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1]"

# Both pages restart at the same moment of the shared clock, as two pages whose networks changed at
# once: each offer leaves before the other's arrives.
RESTART_AT = "(at) => setTimeout(() => window.alienmeet.restartIce(), Math.max(0, at - Date.now()))"


def prepared(hooks: dict | None):
    def prepare(page) -> None:
        if hooks:
            page.add_init_script(f"window.__alienmeetTest = {json.dumps(hooks)};")
        page.add_init_script(PAINTED_FRAMES_SCRIPT)
        page.add_init_script(COUNT_ROLLBACKS)
        page.add_init_script(HOLD_OFFERS)

    return prepare


def offers_sent(page) -> int:
    frames = (json.loads(raw) for raw in page.frames_sent_to_server)
    return sum(
        1
        for frame in frames
        if frame.get("type") == "signal" and (frame["data"].get("description") or {}).get("type") == "offer"
    )


def call_with_pictures(visitor, hooks: dict | None):
    alice = visitor(prepare=prepared(hooks))
    bob = visitor(prepare=prepared(hooks))
    start_call(alice, bob, video_frames=10, timeout=60000)
    for page in (alice, bob):
        wait_for_painted_frames(page, 5, timeout=60000)
    return by_politeness(alice, bob)


def restart_both_at_once(polite, impolite) -> float:
    at = polite.evaluate("Date.now()") + 400
    for page in (polite, impolite):
        page.evaluate(RESTART_AT, at)
    return at


# What each page shows and decodes, for a failure's message.
DIAGNOSIS = f"""(async () => ({{ polite: window.alienmeet.polite, painted: window.__painted, decoded: {FRAMES_DECODED},
  rollbacks: window.__rollbacks, recoveries: window.alienmeet.pictureRecoveries }}))()"""


def seconds_until_both_move(pages, at_ms: float, timeout: float = 45.0, what: str = "null") -> float:
    """Seconds from the restart until each page presented 5 more frames from now on (the browser's clock).

    The fake camera sends 30 a second; a loaded 2-core machine may paint only a few a second.
    """
    deadline = time.monotonic() + timeout
    start = {page: painted_frames(page) for page in pages}
    while True:
        if all(painted_frames(page) >= start[page] + 5 for page in pages):
            return round((pages[0].evaluate("Date.now()") - at_ms) / 1000, 2)
        if time.monotonic() > deadline:
            stuck = {page.evaluate("window.alienmeet.polite"): painted_frames(page) - start[page] for page in pages}
            states = [page.evaluate(what) for page in pages]
            raise AssertionError(f"a picture did not move again: new frames by polite={stuck}; {states}")
        pages[0].wait_for_timeout(100)


def test_restarts_at_once_never_cross_and_both_pictures_move(visitor, capsys):
    polite, impolite = call_with_pictures(visitor, hooks=None)
    ufrags = {page: page.evaluate(LOCAL_UFRAG) for page in (polite, impolite)}
    polite_offers = offers_sent(polite)
    at = restart_both_at_once(polite, impolite)
    for page in (polite, impolite):
        wait_js(page, f"{LOCAL_UFRAG} !== {ufrags[page]!r}", timeout=40000)
    took = seconds_until_both_move([polite, impolite], at)
    # One restart offer, from the impolite page; the polite page asked for it instead of offering.
    assert offers_sent(polite) == polite_offers == 0
    assert any('"restart":true' in frame.replace(" ", "") for frame in polite.frames_sent_to_server)
    for page in (polite, impolite):
        assert page.evaluate("window.__rollbacks") == 0
        assert page.evaluate("window.alienmeet.pictureRecoveries") == 0
        wait_for_remote_video(page, frames=remote_frames(page) + 10)
    with capsys.disabled():
        print(f"\n[pictures] both restarting at once, no crossing: both pictures move after {took} s")


def test_crossing_offers_roll_back_and_both_pictures_still_move(visitor, capsys):
    # The old restart path (glare-free path off): both pages offer, the offers cross (the impolite
    # page's waits a moment, as a restart offer a dead socket swallowed does), the polite page rolls
    # back. Whatever that does to its picture, the visitor must see it move again: by itself, or
    # brought back by the picture watchdog (which then tells the server, once).
    polite, impolite = call_with_pictures(visitor, hooks={"crossingRestarts": True})
    impolite.evaluate("window.__holdOffersMs = 1500")
    times = []
    for _attempt in range(3):
        rollbacks = polite.evaluate("window.__rollbacks")
        at = restart_both_at_once(polite, impolite)
        with contextlib.suppress(AssertionError):
            wait_js(polite, f"window.__rollbacks > {rollbacks}", timeout=5000)
        times.append(seconds_until_both_move([polite, impolite], at, what=DIAGNOSIS))
        for page in (polite, impolite):
            wait_js(page, "window.alienmeet.peerConnection.signalingState === 'stable'", timeout=30000)
    assert polite.evaluate("window.__rollbacks") >= 1, "the offers never crossed"
    recoveries = polite.evaluate("window.alienmeet.pictureRecoveries")
    sent = [json.loads(raw) for raw in polite.frames_sent_to_server]
    recovered = [frame for frame in sent if frame.get("type") == "picture_recovered"]
    assert len(recovered) == min(recoveries, 1)  # counted once per match
    assert impolite.evaluate("window.alienmeet.pictureRecoveries") == 0  # the impolite page never rolls back
    with capsys.disabled():
        print(f"\n[pictures] crossing offers: both pictures move after {times} s; watchdog recoveries: {recoveries}")
