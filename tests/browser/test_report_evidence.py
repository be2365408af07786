"""A report with evidence, from the call page to the staff's moderation queue."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import matched_pair, new_context, screenshot, wait_for, wait_for_remote_video, wait_js
from tests.staff import browser_login, create_superuser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a-long-test-password-42"


def test_report_with_evidence_reaches_the_queue_with_its_image(visitor, browser, site_server):
    alice, bob = matched_pair(visitor)
    wait_for_remote_video(alice, frames=5)
    bob.get_by_label("Message").fill("an unkind line from the stranger")
    bob.get_by_label("Message").press("Enter")
    alice.locator("#chat-log .from-stranger", has_text="an unkind line").wait_for()
    alice.get_by_label("Message").fill("please stop")
    alice.get_by_label("Message").press("Enter")
    bob.locator("#chat-log .from-stranger", has_text="please stop").wait_for()

    alice.get_by_role("button", name="Report").click()
    dialog = alice.get_by_role("dialog", name="Report this stranger")
    checkbox = dialog.get_by_label("Include a snapshot and the chat")
    assert checkbox.is_checked()
    dialog.get_by_label("Harassment").check()
    dialog.get_by_role("button", name="Send report").click()
    alice.locator("#chat-log .notice", has_text="The stranger was reported").wait_for()
    sent = [json.loads(frame) for frame in alice.frames_sent_to_server if '"report"' in frame]
    assert len(sent) == 1
    evidence = sent[0]["evidence"]
    assert evidence["chat"] == [
        {"from": "stranger", "text": "an unkind line from the stranger"},
        {"from": "me", "text": "please stop"},
    ]
    assert 1000 < len(evidence["snapshot"]) * 3 / 4 <= 100 * 1024

    create_superuser(site_server.environ, "mod", PASSWORD)
    context = new_context(browser, viewport={"width": 1280, "height": 1000})
    staff = context.new_page()
    staff.goto(f"{site_server.http_url}/admin/moderation/report/queue/")
    browser_login(staff, "mod", PASSWORD)  # a new superuser enrols a second factor first
    staff.wait_for_url("**/admin/moderation/report/queue/")
    case = staff.locator("section.moderation-case").first
    image = case.get_by_role("img", name="Snapshot the reporter attached")
    image.wait_for()
    # Blurred until revealed; the real picture loads only then.
    case.get_by_role("link", name="Reveal the snapshot").click()
    wait_js(staff, "document.querySelector('section.moderation-case img').naturalWidth > 100")
    assert "an unkind line from the stranger" in case.inner_text()
    assert "Harassment" in case.inner_text()
    screenshot(staff, "moderation-queue")
    # Nobody but staff gets the image.
    src = image.get_attribute("src")
    anonymous = new_context(browser)
    response = anonymous.request.get(f"{site_server.http_url}{src}", max_redirects=0)
    assert response.status in (302, 403) and not response.body().startswith(b"\xff\xd8")
    anonymous.close()
    case.get_by_role("button", name="Dismiss").click()
    staff.get_by_text("The queue is empty.").wait_for()
    context.close()


SENDER = """async () => {
  const callScript = document.querySelector('script[type=module][src*="call"]').src;
  const { ReportSender } = await import(callScript.replace(/call[^/]*\\.js.*$/, 'report.js'));
  const sent = [];
  const signaling = new EventTarget();
  signaling.send = (frame) => { sent.push(frame); return true; };
  // The server names its answers to a report; a frame refused before it was read as one is unnamed.
  const refuse = (code) => sender.refusedBy(code === 'bad_message' ? { code } : { code, about: 'report' });
  const sender = new ReportSender(signaling);
  sender.send('m1', 'spam', { chat: [{ from: 'me', text: 'hi' }] });
  refuse('bad_message');   // evidence refused: the report goes again, without it
  refuse('rate_limited');  // the plain report is over the quota: the call still ends
  refuse('rate_limited');  // nothing pending any more: ignored
  sender.send('m2', 'nudity', null);
  // A flood warning or a refused ICE refresh while the report waits answers something else.
  const claimed = [sender.refusedBy({ code: 'rate_limited' }), sender.refusedBy({ code: 'not_matched' })];
  const crossed = [sender.crossedBy('m2'), sender.crossedBy('m1')];  // the stranger's Next may cross it
  signaling.dispatchEvent(new CustomEvent('reported', { detail: { match_id: 'm2' } }));
  crossed.push(sender.crossedBy('m2'));  // answered: nothing is pending
  sender.send('m3', 'spam', null, { ended: true });
  crossed.push(sender.crossedBy('m3'));  // a call already over crosses nothing
  refuse('rate_limited');  // and a refusal of it moves nobody on
  refuse('bad_message');   // about something else
  sent.push(crossed, claimed);
  return sent;
}"""


def test_refused_evidence_is_resent_without_it_and_a_refused_report_still_moves_on(visitor):
    page = visitor()
    sent = page.evaluate(SENDER)
    assert sent == [
        {"type": "report", "match_id": "m1", "reason": "spam", "evidence": {"chat": [{"from": "me", "text": "hi"}]}},
        {"type": "report", "match_id": "m1", "reason": "spam"},
        {"type": "next"},
        {"type": "report", "match_id": "m2", "reason": "nudity"},
        {"type": "report", "match_id": "m3", "reason": "spam"},
        [True, False, False, False],
        [False, False],
    ]


def test_a_report_without_evidence_sends_none(visitor):
    """Unticking "Include a snapshot and the chat" keeps the picture and the chat in the browser."""
    alice, bob = matched_pair(visitor)
    wait_for_remote_video(alice, frames=5)
    bob.get_by_label("Message").fill("hello there")
    bob.get_by_label("Message").press("Enter")
    alice.locator("#chat-log .from-stranger", has_text="hello there").wait_for()
    alice.get_by_role("button", name="Report").click()
    dialog = alice.get_by_role("dialog", name="Report this stranger")
    dialog.get_by_label("Include a snapshot and the chat").uncheck()
    dialog.get_by_label("Spam").check()
    dialog.get_by_role("button", name="Send report").click()
    alice.locator("#chat-log .notice", has_text="The stranger was reported").wait_for()
    sent = [json.loads(frame) for frame in alice.frames_sent_to_server if '"report"' in frame]
    assert len(sent) == 1
    assert sent[0]["reason"] == "spam" and "evidence" not in sent[0]
    assert "hello there" not in "".join(alice.frames_sent_to_server)


def say(page, text: str, to) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")
    to.locator("#chat-log .from-stranger", has_text=text).wait_for()


def reports_sent(page) -> list[dict]:
    return [json.loads(frame) for frame in page.frames_sent_to_server if '"report"' in frame]


def test_the_stranger_of_a_call_just_ended_can_still_be_reported(visitor):
    """Someone who exposes themselves and leaves at once is still within reach of Report."""
    alice, bob = matched_pair(visitor)
    ended = alice.evaluate("window.alienmeet.matchId")
    say(bob, "look at this", alice)
    bob.get_by_role("button", name="Stop").click()
    alice.locator("#chat-log .notice", has_text="Stranger left").wait_for()
    report_button = alice.get_by_role("button", name="Report")
    wait_js(alice, "!document.getElementById('report').disabled")
    report_button.click()
    dialog = alice.get_by_role("dialog", name="Report this stranger")
    dialog.get_by_label("Nudity").check()
    dialog.get_by_role("button", name="Send report").click()
    alice.locator("#chat-log .notice", has_text="The last stranger was reported").wait_for()
    [sent] = reports_sent(alice)
    # Their chat lines were kept as evidence; their picture is gone with the call.
    assert sent["match_id"] == ended and sent["reason"] == "nudity"
    assert sent["evidence"] == {"chat": [{"from": "stranger", "text": "look at this"}]}
    wait_for(alice, lambda: any('"reported"' in frame for frame in alice.frames_from_server), "the server's answer")
    # Reported once: the button does not offer that call again.
    wait_js(alice, "document.getElementById('report').disabled")


def test_a_report_carries_only_the_reported_calls_chat(visitor):
    alice, bob = matched_pair(visitor)
    say(bob, "a line from the first stranger", alice)
    say(alice, "hello first", bob)
    first = alice.evaluate("window.alienmeet.matchId")
    carol = visitor()
    bob.get_by_role("button", name="Stop").click()
    alice.locator("#chat-log .notice", has_text="Stranger left").wait_for()
    carol.get_by_role("button", name="Talk to Aliens").click()
    wait_js(alice, f"window.alienmeet.phase === 'connected' && window.alienmeet.matchId !== {json.dumps(first)}")
    wait_js(carol, "window.alienmeet.phase === 'connected'")
    say(carol, "a line from the second stranger", alice)
    alice.get_by_role("button", name="Report").click()
    dialog = alice.get_by_role("dialog", name="Report this stranger")
    dialog.get_by_label("Spam").check()
    dialog.get_by_role("button", name="Send report").click()
    alice.locator("#chat-log .notice", has_text="The stranger was reported").wait_for()
    [sent] = reports_sent(alice)
    assert sent["evidence"]["chat"] == [{"from": "stranger", "text": "a line from the second stranger"}]


def test_the_last_call_is_offered_for_a_report_only_for_a_while(visitor):
    page = visitor()
    page.clock.install()
    module = "await import('/static/js/last_match.js')"
    page.evaluate(
        f"""async () => {{
            const {{ LastMatch }} = {module};
            window.changes = 0;
            window.last = new LastMatch(() => {{ window.changes += 1; }});
            window.last.ended('m1', [{{ from: 'stranger', text: 'hi' }}]);
        }}"""
    )
    assert page.evaluate("[window.last.reportable, window.last.matchId, window.changes]") == [True, "m1", 1]
    page.clock.fast_forward(40_000)
    assert page.evaluate("window.last.reportable")
    # A newer call replaces it; then time runs out for that one too.
    page.evaluate("window.last.ended('m2', [])")
    page.clock.fast_forward(45_000)
    assert page.evaluate("[window.last.reportable, window.last.matchId]") == [True, "m2"]
    page.clock.fast_forward(6_000)
    assert page.evaluate("[window.last.reportable, window.last.matchId, window.last.chat]") == [False, None, []]
    assert page.evaluate("window.changes") == 3
