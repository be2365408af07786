// The call that just ended, which can still be reported for a short while (docs/protocol.md,
// `report`): someone who exposes themselves tends to press Next, or close the tab, before the
// visitor has found the Report button.

// The server accepts a report of a match up to 60 s after it ended; the page offers a little less,
// so a report sent at the last moment still arrives in time.
export const REPORT_AFTER_END_MS = 50000;

export class LastMatch {
  // `changed` is called when the last call becomes reportable or stops being so.
  constructor(changed = () => {}) {
    this.changed = changed;
    this.matchId = null;
    this.chat = [];
    this.timer = null;
  }

  // A call ended (not by a report: that one was dealt with). `chat` is its last lines, kept as
  // evidence, since the chat log is cleared for the next stranger.
  ended(matchId, chat) {
    clearTimeout(this.timer);
    this.matchId = matchId;
    this.chat = chat;
    this.timer = setTimeout(() => this.forget(), REPORT_AFTER_END_MS);
    this.changed();
  }

  get reportable() {
    return this.matchId !== null;
  }

  // Reported, or too late: the call is no longer on offer.
  forget() {
    const had = this.matchId !== null;
    clearTimeout(this.timer);
    this.timer = null;
    this.matchId = null;
    this.chat = [];
    if (had) this.changed();
  }
}
