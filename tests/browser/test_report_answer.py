"""The page tells the visitor what became of a report only once the server has answered it."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import start_call, wait_for, wait_for_remote_video

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOT_FILED = "The report could not be filed just now; nothing was reported."


class ReportTap:
    """Routes the reporter's signaling socket through the test: it can hold the server's `reported`
    back, or answer the first report as a server that could not file it does (the call ends, the
    visitor is queued again, nothing is filed) without the server ever seeing that report."""

    def __init__(self, *, hold_reported: bool = False, first_unavailable: bool = False) -> None:
        self.hold_reported = hold_reported
        self.first_unavailable = first_unavailable
        self.reports: list[dict] = []
        self.held: list[str] = []
        self.route = None

    def install(self, page) -> None:
        page.route_web_socket("**/ws/meet/", self.handle)

    def handle(self, route) -> None:
        server = route.connect_to_server()
        self.route = route

        def to_server(message) -> None:
            frame = json.loads(message)
            if frame.get("type") == "report":
                self.reports.append(frame)
                if self.first_unavailable and len(self.reports) == 1:
                    # What the server does with a report it cannot file: the call ends and the
                    # reporter queues again; the report itself is gone, so a second one is accepted.
                    server.send(json.dumps({"type": "next"}))
                    refusal = {"type": "error", "code": "unavailable", "message": NOT_FILED, "about": "report"}
                    route.send(json.dumps(refusal))
                    return
            server.send(message)

        def to_page(message) -> None:
            if self.hold_reported and json.loads(message).get("type") == "reported":
                self.held.append(message)
                return
            route.send(message)

        route.on_message(to_server)
        server.on_message(to_page)

    def release(self) -> None:
        for message in self.held:
            self.route.send(message)
        self.held.clear()


def report_spam(page) -> None:
    page.get_by_role("button", name="Report").click()
    dialog = page.get_by_role("dialog", name="Report this stranger")
    dialog.get_by_label("Spam").check()
    dialog.get_by_role("button", name="Send report").click()


def notices(page, text: str):
    return page.locator("#chat-log .notice", has_text=text)


def test_thanks_come_only_once_the_server_says_the_report_is_filed(visitor):
    tap = ReportTap(hold_reported=True)
    alice = visitor(prepare=tap.install)
    bob = visitor()
    start_call(alice, bob)
    report_spam(alice)
    notices(alice, "Sending your report").wait_for()
    wait_for(alice, lambda: tap.held, "the server's answer to the report")
    assert notices(alice, "Thanks.").count() == 0
    tap.release()
    notices(alice, "Thanks. The stranger was reported and you moved on.").wait_for()


def test_a_report_that_could_not_be_filed_is_said_so_and_goes_again_as_chosen(visitor):
    tap = ReportTap(first_unavailable=True)
    alice = visitor(prepare=tap.install)
    bob = visitor()
    start_call(alice, bob)
    wait_for_remote_video(alice, frames=5)
    bob.get_by_label("Message").fill("a line for the evidence")
    bob.get_by_label("Message").press("Enter")
    alice.locator("#chat-log .from-stranger", has_text="a line for the evidence").wait_for()
    report_spam(alice)
    notices(alice, NOT_FILED).wait_for()
    assert notices(alice, "Thanks.").count() == 0
    again = alice.get_by_role("button", name="Send the report again")
    again.click()
    notices(alice, "Thanks. Your report was filed.").wait_for()
    assert again.count() == 0
    first, second = tap.reports
    # Sent again as the visitor chose it: same call, same reason, the same snapshot and chat.
    assert second == first
    assert first["reason"] == "spam" and first["evidence"]["snapshot"]
    assert first["evidence"]["chat"] == [{"from": "stranger", "text": "a line for the evidence"}]
