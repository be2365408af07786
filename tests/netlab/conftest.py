"""Fixtures for calls across the network lab: the lab itself, the site and coturn in it, browsers in homes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import require
from tests.browser.conftest import (
    CHROMIUM,
    COMMON_FLAGS,
    accept_rules_in,
    new_context,
    open_call_page,
    switch_shield_off_in,
)
from tests.netlab.lab import ENDPOINT_INDEPENDENT, OFFICE, SYMMETRIC, Lab, built_lab, unavailable_reason
from tests.netlab.services import Site, Turn, make_certificate, start_site, start_turn

# The camera at its default rate (20 a second): the picture watchdog acts on 20 frames decoded in 2 s
# and none shown (static/js/picture_watchdog.js), which the browser tests' 10 a second only just reach.
NETLAB_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
MEASUREMENTS = ARTIFACTS / "netlab-measurements.json"

# Which kind of router each home of the lab has.
HOMES = {
    "cone-a": ENDPOINT_INDEPENDENT,
    "cone-b": ENDPOINT_INDEPENDENT,
    "sym-a": SYMMETRIC,
    "sym-b": SYMMETRIC,
    "office": OFFICE,
    "roaming": ENDPOINT_INDEPENDENT,
}

# Sampled every 50 ms inside the page: when its RTCPeerConnection appeared (the match) and when the
# first frame of the stranger's video was decoded. Also when the page first said it could not connect
# (the words may be replaced by the next status line before a poll from outside would see them), and
# every pause of the stranger's video longer than STALL_MS as [last frame before, first frame after],
# and when a signaling socket last closed and last got `resumed` (the call taken over on a new socket).
# What the visitor sees, too: every frame the stranger's <video> presented (requestVideoFrameCallback),
# and its pauses longer than STALL_MS (a picture that froze while frames were still decoded has one
# that never ends). And a log of what happened when (`events`, for the phases of a recovery): signaling
# frames sent and received, socket open and close, restartIce(), the connection's states, each change
# of the selected candidate pair, key frames sent and decoded, key frame requests (PLI) sent.
TIMING_SCRIPT = """
(() => {
  const STALL_MS = 300;
  const lab = { pc: null, matchedAt: null, firstFrameAt: null, cantConnectAfter: null, frames: 0, lastFrameAt: null,
                stalls: [], socketLostAt: null, resumedAt: null, painted: 0, lastPaintAt: null, paintStalls: [],
                events: [], pairName: null, keyFrames: 0, plis: 0, sentKeyFrames: 0 };
  window.__netlab = lab;
  document.addEventListener('DOMContentLoaded', () => {
    const video = document.getElementById('remote-video');
    const onFrame = () => {
      const now = performance.now();
      if (lab.lastPaintAt !== null && now - lab.lastPaintAt > STALL_MS) {
        lab.paintStalls.push([lab.lastPaintAt, now]);
        note('painted again');
      }
      Object.assign(lab, { painted: lab.painted + 1, lastPaintAt: now });
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
  // What happened when, for the phase breakdown of a recovery: [time, what] in the page's clock.
  const note = (what) => {
    lab.events.push([performance.now(), what]);
    if (lab.events.length > 2000) lab.events.shift();
  };
  // A signaling frame in a word: its type, or for a signal what it carries (candidates are not noted).
  const named = (raw) => {
    let frame;
    try { frame = JSON.parse(raw); } catch { return null; }
    if (!frame || frame.type === 'online') return null;
    if (frame.type !== 'signal') return frame.type === 'error' ? `error ${frame.code}` : frame.type;
    const data = frame.data || {};
    if (data.description) return data.description.type;
    if (data.candidate) return `candidate ${(/ typ (\\w+)/.exec(data.candidate.candidate || '') || [])[1]}`;
    return data.restart ? 'restart' : null;
  };
  const PageWebSocket = window.WebSocket;
  window.WebSocket = class extends PageWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => note('ws open'));
      this.addEventListener('close', (event) => {
        lab.socketLostAt = performance.now();
        note(`ws close ${event.code}`);
      });
      this.addEventListener('message', ({ data }) => {
        if (typeof data === 'string' && /"type":\\s*"resumed"/.test(data)) lab.resumedAt = performance.now();
        const what = typeof data === 'string' ? named(data) : null;
        if (what) note(`got ${what}`);
      });
    }
    send(data) {
      const what = typeof data === 'string' ? named(data) : null;
      if (what) note(`sent ${what}${this.readyState === PageWebSocket.OPEN ? '' : ' (socket not open)'}`);
      return super.send(data);
    }
  };
  const restartIce = RTCPeerConnection.prototype.restartIce;
  RTCPeerConnection.prototype.restartIce = function () { note('restartIce'); return restartIce.call(this); };
  const channelSend = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (data) {
    if (typeof data === 'string' && !data.includes('"keepalive"')) note(`peer sent ${data.slice(0, 40)}`);
    return channelSend.call(this, data);
  };
  for (const name of ['online', 'offline']) window.addEventListener(name, () => note(name));
  new MutationObserver(() => {
    const text = document.body ? document.body.textContent.replace(/\u2019/g, "'") : '';
    if (lab.cantConnectAfter === null && lab.matchedAt !== null && text.includes("Couldn't connect to this stranger")) {
      // Kept as a duration: the next match (a new connection) moves matchedAt on.
      lab.cantConnectAfter = performance.now() - lab.matchedAt;
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
  setInterval(async () => {
    const pc = window.alienmeet && window.alienmeet.peerConnection;
    if (!pc) return;
    if (lab.pc !== pc) {
      Object.assign(lab, { pc, matchedAt: performance.now(), firstFrameAt: null });
      Object.assign(lab, { frames: 0, lastFrameAt: null, stalls: [] });
      pc.addEventListener('iceconnectionstatechange', () => note(`ice ${pc.iceConnectionState}`));
      pc.addEventListener('connectionstatechange', () => note(`connection ${pc.connectionState}`));
      pc.addEventListener('signalingstatechange', () => note(`signaling ${pc.signalingState}`));
    }
    let frames = 0;
    let keyFrames = 0;
    let plis = 0;
    let sentKeyFrames = 0;
    let pair = null;
    const stats = await pc.getStats();
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        frames += r.framesDecoded || 0;
        keyFrames += r.keyFramesDecoded || 0;
        plis += r.pliCount || 0;
      }
      if (r.type === 'outbound-rtp' && r.kind === 'video') sentKeyFrames += r.keyFramesEncoded || 0;
      if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
    });
    const where = (id) => ((c) => (c ? `${c.candidateType} ${c.address}:${c.port}` : '?'))(id && stats.get(id));
    const pairName = pair ? `${where(pair.localCandidateId)} -> ${where(pair.remoteCandidateId)}` : 'none';
    if (pairName !== lab.pairName) note(`pair ${pairName}`);
    if (keyFrames > lab.keyFrames) note(`keyframe decoded`);
    if (plis > lab.plis) note(`pli sent`);
    if (sentKeyFrames > lab.sentKeyFrames) note(`keyframe sent`);
    Object.assign(lab, { pairName, keyFrames, plis, sentKeyFrames });
    const now = performance.now();
    if (frames > 0 && lab.firstFrameAt === null) lab.firstFrameAt = now;
    if (frames > lab.frames) {
      if (lab.lastFrameAt !== null && now - lab.lastFrameAt > STALL_MS) {
        lab.stalls.push([lab.lastFrameAt, now]);
        note('decoded again');
      }
      Object.assign(lab, { frames, lastFrameAt: now });
    }
  }, 50);
})();
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    reason = unavailable_reason()
    require(reason is None, f"the network lab ({reason})")
    with built_lab(HOMES) as network:
        yield network


@pytest.fixture(scope="module")
def lab_servers(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, Turn]:
    directory = tmp_path_factory.mktemp("netlab")
    cert, key = make_certificate(directory)
    turn = start_turn(lab, directory, cert, key)
    site = start_site(lab, directory, cert, key, turn)
    return site, turn


@pytest.fixture(scope="module")
def lab_playwright():
    require(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM} (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


LabVisitor = Callable[..., object]


@pytest.fixture
def lab_visitor(lab: Lab, lab_servers: tuple[Site, Turn], lab_playwright, tmp_path: Path) -> Iterator[LabVisitor]:
    """Open the call page in a Chromium that runs inside the given home."""
    site, _turn = lab_servers
    browsers = []

    def open_visitor(home_label: str, hide_ip: bool = False):
        home = lab.homes[home_label]
        browser = lab_playwright.chromium.launch(
            executable_path=str(lab.chromium_wrapper(home, tmp_path, CHROMIUM)),
            headless=True,
            # The lab's certificate is self-signed, for the page and for TURN over TLS alike.
            args=[*COMMON_FLAGS, *NETLAB_MEDIA, "--ignore-certificate-errors"],
        )
        browsers.append(browser)
        context = new_context(browser, ignore_https_errors=True, viewport={"width": 960, "height": 720})
        context.add_init_script(TIMING_SCRIPT)
        # A visitor who has accepted the rules, as the browser tests' visitors have; the lab's site
        # runs with the default rules version (no MEET_RULES_VERSION in its environment).
        accept_rules_in(context, SimpleNamespace(environ={}))
        # The shield off, as for the browser tests' visitors: the lab is about paths, and the
        # classifier is CPU the lab's timings should not share.
        switch_shield_off_in(context)
        page = open_call_page(context, f"{site.url}/meet/", home_label)
        page.home = home
        if hide_ip:
            page.get_by_role("switch", name="Hide my IP").check()
        return page

    yield open_visitor
    for browser in browsers:
        browser.close()


class Measurements:
    """Figures from the scenarios, written to artifacts/netlab-measurements.json for docs/connectivity.md."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, object]] = {}

    def record(self, scenario: str, **figures: object) -> None:
        self.rows[scenario] = {**figures, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        print(f"[netlab] {scenario}: {figures}")

    def write(self) -> None:
        if not self.rows:
            return
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            previous = json.loads(MEASUREMENTS.read_text())
        except (OSError, ValueError):
            previous = {}
        MEASUREMENTS.write_text(json.dumps({**previous, **self.rows}, indent=2) + "\n")


@pytest.fixture(scope="module")
def measurements() -> Iterator[Measurements]:
    figures = Measurements()
    yield figures
    figures.write()
