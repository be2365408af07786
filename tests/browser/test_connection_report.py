"""Each browser tells the server once per call how it connected, from getStats' selected candidate pair."""

from __future__ import annotations

import json

import pytest

from tests.browser.test_call import matched_pair

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
