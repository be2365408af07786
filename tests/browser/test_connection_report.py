"""Each browser tells the server once per call how it connected, from getStats' selected candidate pair."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import matched_pair, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def reports_sent(page) -> list[dict]:
    frames = [json.loads(text) for text in page.frames_sent_to_server]
    return [frame for frame in frames if frame.get("type") == "connection_report"]


def wait_for_report(page, timeout_ms: int = 10_000) -> list[dict]:
    """The reports this page sent, once there is one (polling the frames Playwright saw)."""
    for _ in range(timeout_ms // 100):
        sent = reports_sent(page)
        if sent:
            return sent
        page.wait_for_timeout(100)
    raise AssertionError("no connection_report was sent")


def test_each_visitor_reports_a_direct_connection_once(visitor):
    alice, bob = matched_pair(visitor)
    wait_for_report(alice)
    wait_for_report(bob)
    alice.wait_for_timeout(500)  # room for a second report, which must not come
    reports = {"alice": reports_sent(alice), "bob": reports_sent(bob)}
    for name, sent in reports.items():
        assert len(sent) == 1, f"{name} sent {sent}"
        [report] = sent
        assert set(report) == {"type", "match_id", "outcome", "connect_ms"}
        # Two browsers on one loopback: host candidates, no relay.
        assert report["outcome"] == "direct"
        assert isinstance(report["connect_ms"], int) and 0 <= report["connect_ms"] < 30_000
    assert reports["alice"][0]["match_id"] == reports["bob"][0]["match_id"]


OUTCOME_CASES = """async () => {
  const { outcomeFromStats } = await import('/static/js/connection_report.js');
  const stats = (local, viaTransport = true) => {
    const reports = [
      ['P', { id: 'P', type: 'candidate-pair', localCandidateId: 'L', nominated: true, state: 'succeeded' }],
      ['L', { id: 'L', type: 'local-candidate', ...local }],
    ];
    if (viaTransport) reports.push(['T', { id: 'T', type: 'transport', selectedCandidatePairId: 'P' }]);
    return new Map(reports);
  };
  return {
    host: outcomeFromStats(stats({ candidateType: 'host' })),
    srflx: outcomeFromStats(stats({ candidateType: 'srflx' })),
    udp: outcomeFromStats(stats({ candidateType: 'relay', relayProtocol: 'udp' })),
    tcp: outcomeFromStats(stats({ candidateType: 'relay', relayProtocol: 'tcp' })),
    tls: outcomeFromStats(stats({ candidateType: 'relay', relayProtocol: 'tls' })),
    unnamed: outcomeFromStats(stats({ candidateType: 'relay' })),
    nominatedOnly: outcomeFromStats(stats({ candidateType: 'relay', relayProtocol: 'tcp' }, false)),
    nothing: outcomeFromStats(new Map()),
  };
}"""


def test_outcome_from_the_selected_local_candidate(visitor):
    page = visitor()
    assert page.evaluate(OUTCOME_CASES) == {
        "host": "direct",
        "srflx": "direct",
        "udp": "relay_udp",
        "tcp": "relay_tcp",
        "tls": "relay_tls",
        "unnamed": "relay_udp",
        "nominatedOnly": "relay_tcp",
        "nothing": None,
    }


NEVER_CONNECTS = """async () => {
  const { watchConnection } = await import('/static/js/connection_report.js');
  // A connection with no partner at all: it stays "new" until the page gives up on it.
  const pc = new RTCPeerConnection();
  pc.createDataChannel('probe');
  await pc.setLocalDescription();
  const sent = [];
  watchConnection(pc, (report) => sent.push(report), 300);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  pc.close();
  return sent;
}"""


def test_a_call_that_never_connects_is_reported_failed_once(visitor):
    page = visitor()
    assert page.evaluate(NEVER_CONNECTS) == [{"outcome": "failed"}]


# Calls that can never connect: every candidate the stranger sends is dropped, in the descriptions
# and on its own, so no connectivity check ever starts.
NO_PATH = """
(() => {
  const setRemote = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (description, ...rest) {
    const sdp = description && description.sdp;
    const noCandidates = sdp && sdp.replace(/a=candidate:[^\\r\\n]*\\r\\n/g, '');
    const stripped = sdp ? { type: description.type, sdp: noCandidates } : description;
    return setRemote.call(this, stripped, ...rest);
  };
  RTCPeerConnection.prototype.addIceCandidate = async function () {};
})();
"""

# This page hears of its match a little later than the stranger's (as a slower network would): the
# stranger's page gives up first, and its `partner_left` arrives just before this page's own deadline.
# A second later: the page takes a `partner_left` up to 2 s before its deadline as the same failure
# (static/js/connect_deadline.js), so either page's timers may run a second late on a loaded machine.
# (1.8 s left only 0.2 s: under load the late page then heard the news 2.1 s early and rightly did
# not count the call as failed.)
LATE_MATCHED = """
(() => {
  const PageWebSocket = window.WebSocket;
  window.WebSocket = class extends PageWebSocket {
    addEventListener(type, listener, ...rest) {
      if (type !== 'message') return super.addEventListener(type, listener, ...rest);
      return super.addEventListener('message', (event) => {
        const matched = typeof event.data === 'string' && /"type":\\s*"matched"/.test(event.data);
        if (matched) setTimeout(() => listener(event), 1000);
        else listener(event);
      }, ...rest);
    }
  };
})();
"""


def test_a_failed_call_is_reported_by_both_browsers_when_one_gives_up_first(visitor):
    early = visitor(prepare=lambda page: page.add_init_script(NO_PATH))
    late = visitor(prepare=lambda page: (page.add_init_script(NO_PATH), page.add_init_script(LATE_MATCHED)))
    early.get_by_role("button", name="Talk to Aliens").click()
    wait_js(early, "window.alienmeet.phase === 'searching'")
    late.get_by_role("button", name="Talk to Aliens").click()
    wait_js(early, "window.alienmeet.matchId !== null")
    match_id = early.evaluate("window.alienmeet.matchId")
    # Each page gives up (the connect deadline, 10 s) and looks for someone new by itself.
    for page in (early, late):
        page.locator("#chat-log .notice", has_text="Couldn").wait_for(timeout=30000)
    # The late page learnt from the server that the stranger gave up, before its own deadline.
    left = [json.loads(raw) for raw in late.frames_from_server if '"partner_left"' in raw]
    # (With nobody else waiting the two may be matched again afterwards, and fail again.)
    assert left and left[0]["match_id"] == match_id
    for page in (early, late):
        wait_for_report(page)
        frames = [json.loads(raw) for raw in page.frames_sent_to_server]
        reports = [f for f in frames if f.get("type") == "connection_report" and f["match_id"] == match_id]
        assert reports == [{"type": "connection_report", "match_id": match_id, "outcome": "failed"}]
        # Sent before the page queued again, while the server still knew the match as this page's.
        at = frames.index(reports[0])
        assert any(frame.get("type") in {"join", "next"} for frame in frames[at + 1 :])
    # The server took both: neither report was refused.
    for page in (early, late):
        errors = [json.loads(raw) for raw in page.frames_from_server if '"error"' in raw]
        assert not [error for error in errors if error.get("code") in {"not_matched", "rate_limited"}], errors
