// Reporting from the call page: whom a report is about (the current stranger, or for a little while
// the last one), sending it, and what the visitor is told once the server answers.

import { gettext } from "./i18n.js";
import { NOT_MATCHED } from "./protocol.js";
import { ReportSender, collectEvidence } from "./report.js";

export class Reporting {
  // `call`: the CurrentCall; `phase`: the CallPhase; `ui`, `view`, `chat`: the page's.
  constructor({ signaling, call, lastMatch, resume, phase, ui, view, chat }) {
    Object.assign(this, { call, lastMatch, resume, phase, ui, view, chat });
    this.sender = new ReportSender(signaling, {
      filed: (report) => this.filed(report),
      failed: (report, code, message) => this.failed(report, code, message),
    });
    this.dialogTarget = null;
  }

  // Report the current stranger; between calls, the last one, for a little while after. Not during
  // an unlinked call: the server no longer knows it, and the last one is someone else.
  refreshButton() {
    this.ui.report.disabled = this.call.session ? this.call.unlinked : !this.lastMatch.reportable;
  }

  // Whom a report is about: decided when the visitor asks, not when the dialog is sent, since the
  // stranger may skip on (and a new one arrive) while the visitor picks a reason.
  target() {
    const { session, unlinked } = this.call;
    if (session) return unlinked ? null : session.matchId;
    return this.lastMatch.matchId;
  }

  async report(reason, withEvidence, target) {
    const { call, chat } = this;
    const session = call.session;
    if (!target) return;
    if (!session || session.matchId !== target || call.unlinked) {
      // That call has ended since: it is the last one now, or gone.
      if (this.lastMatch.matchId === target) this.reportLast(reason, withEvidence);
      else chat.add(gettext("That call is over; nothing was reported."), "notice");
      return;
    }
    if (this.resume.cutOff) return;
    const evidence = withEvidence ? await collectEvidence({ video: this.ui.remoteVideo, log: chat.log, callId: session.matchId }) : null;
    if (call.session !== session) return; // the call ended while the snapshot was taken
    if (!this.sender.send(session.matchId, reason, evidence)) return;
    call.end();
    this.lastMatch.forget();
    // Thanks only once the server says it is filed (filed()); the call ends either way.
    chat.add(gettext("Sending your report… You moved on."), "notice");
    this.phase.search(gettext("Looking for a stranger…"));
    this.view.remoteMessage(gettext("Looking for a stranger…"));
  }

  // The stranger of the call that just ended: their picture is gone, their chat lines were kept.
  reportLast(reason, withEvidence) {
    const { lastMatch, chat } = this;
    const evidence = withEvidence && lastMatch.chat.length ? { chat: lastMatch.chat } : null;
    if (!this.sender.send(lastMatch.matchId, reason, evidence, { ended: true })) {
      chat.add(gettext("Not connected to AlienMeet just now; nothing was reported."), "notice");
      return;
    }
    lastMatch.forget();
    chat.add(gettext("Sending your report…"), "notice");
  }

  filed(report) {
    const { chat } = this;
    if (report.retry) chat.add(gettext("Thanks. Your report was filed."), "notice");
    else if (report.ended) chat.add(gettext("Thanks. The last stranger was reported."), "notice");
    else chat.add(gettext("Thanks. The stranger was reported and you moved on."), "notice");
    for (const button of chat.log.querySelectorAll("button[data-report-again]")) {
      if (button.dataset.reportAgain === report.matchId) button.remove();
    }
  }

  // Nothing was filed: say so, and offer the same report (reason and evidence) again, unless the server
  // no longer knows that call (`not_matched`) or this connection, which alone could report it, is gone.
  failed(report, code, message) {
    const { chat } = this;
    if (code === "connection_lost") {
      chat.add(gettext("The connection to AlienMeet was lost before your report was answered; it may not have been filed."), "notice");
      return;
    }
    if (code === NOT_MATCHED) {
      chat.add(gettext("That call is over; nothing was reported."), "notice");
      return;
    }
    // The server's own words, in the visitor's language: they say why (busy, too many reports...).
    chat.add(message || gettext("Your report could not be filed; nothing was reported."), "notice");
    const again = document.createElement("button");
    again.type = "button";
    again.className = "button";
    again.textContent = gettext("Send the report again");
    again.dataset.reportAgain = report.matchId;
    again.addEventListener("click", () => {
      // The call is over by now, on the server too: a refusal of this one moves nobody on.
      if (!this.sender.send(report.matchId, report.reason, report.evidence, { ended: true, retry: true })) {
        chat.add(gettext("Not connected to AlienMeet just now; nothing was reported."), "notice");
        return;
      }
      again.remove();
      chat.add(gettext("Sending your report…"), "notice");
    });
    chat.log.lastElementChild.append(" ", again);
  }

  // The Report button and its dialog; `byId` finds the dialog's Cancel button.
  wire(byId) {
    const { ui } = this;
    ui.report.addEventListener("click", () => {
      this.dialogTarget = this.target();
      ui.reportForm.reset();
      ui.reportDialog.showModal();
    });
    byId("report-cancel").addEventListener("click", () => ui.reportDialog.close());
    ui.reportForm.addEventListener("submit", () => {
      const form = new FormData(ui.reportForm);
      if (form.get("reason")) this.report(form.get("reason"), form.get("evidence") === "on", this.dialogTarget);
    });
  }
}
