// Admission to the queue (docs/protocol.md, "Admission"): a join, and a connection's first Next,
// carry the rules version the visitor accepted and the solved proof of work; this module sends them
// and decides what a refusal of either leads to.

import { POW_EXPIRED, POW_INVALID, POW_REQUIRED, RATE_LIMITED, RULES_REQUIRED } from "./protocol.js";

export const ADMISSION_REFUSALS = new Set([RULES_REQUIRED, POW_REQUIRED, POW_INVALID, POW_EXPIRED]);

export class Admission {
  // `phase`: the page's CallPhase. `page`: { idle(message), start(), search(kind) }, what the page
  // does on a refusal.
  constructor({ signaling, gate, pow, phase, page }) {
    this.signaling = signaling;
    this.gate = gate;
    this.pow = pow;
    this.phase = phase;
    this.page = page;
    this.interests = [];
    this.languages = [];
  }

  get join() {
    return { type: "join", interests: this.interests, languages: this.languages };
  }

  // A new connection's hello: its challenge, and the current rules version.
  hello({ challenge, rules }) {
    this.pow.start(challenge);
    this.gate.useVersion(rules);
  }

  async admit(message) {
    // A connection not yet greeted sends the join itself once its hello comes (a closed one is
    // opened): its hello may name new rules and brings the challenge this join must answer.
    if (!this.signaling.greeted) {
      this.signaling.reconnect();
      return;
    }
    // The hello named rules this visitor has not accepted (the site changed them while the page
    // was open): asked first, as a refusal for them would, and nothing goes out under the old ones.
    if (!this.gate.accepted) {
      this.askRules("");
      return;
    }
    const solution = await this.pow.solution();
    // `resume: true`: every `matched` on this connection then carries a token to take the match over
    // on a new connection if this one breaks.
    if (!this.phase.searching) return;
    if (this.signaling.send({ ...message, resume: true, rules: this.gate.acceptedVersion, pow: solution })) return;
    // Turned away earlier for too many connections from this address: the visitor may have freed one
    // since. (A connection on its way sends the join itself once its hello comes.)
    this.signaling.reconnect();
  }

  // The rules dialog, the call paused until the visitor accepts (and then started again).
  askRules(message) {
    const { phase, page } = this;
    phase.wantCall = false;
    page.idle(message);
    this.gate.ask().then((accepted) => { if (accepted) page.start(); });
  }

  // An `error` refusing a join or next: the rules, the proof of work, or the Next limit (a
  // `rate_limited` with `retry_after`).
  static refuses({ code, ...detail }) {
    return ADMISSION_REFUSALS.has(code) || (code === RATE_LIMITED && "retry_after" in detail);
  }

  refused({ code, message, rules, challenge, retry_after: retryAfter }) {
    const { phase, page } = this;
    if (code === RULES_REQUIRED) {
      this.gate.useVersion(rules);
      this.askRules(message);
    } else if (code === RATE_LIMITED) {
      // Too many Next presses: this side already left the call, so leave the queue and look again later.
      this.signaling.send({ type: "leave" });
      page.idle(message);
      setTimeout(() => { if (phase.waitingToSearch) page.search("join"); }, retryAfter * 1000);
    } else if (this.pow.retry(challenge) && phase.searching) {
      this.admit(this.join);
    } else {
      phase.stop(message);
    }
  }
}
