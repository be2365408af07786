// The call page: builds its parts and wires them to each other, to the signaling socket and to the
// controls. What each part does is in its own module (see the imports).

import { Admission } from "./admission.js";
import { CallPhase } from "./call_phase.js";
import { CallView, callElements } from "./call_view.js";
import { ChatView } from "./chat.js";
import { CurrentCall } from "./current_call.js";
import { gettext } from "./i18n.js";
import { IceRefresh } from "./ice_refresh.js";
import { parseInterests } from "./interests.js";
import { parseLanguages } from "./languages.js";
import { LastMatch } from "./last_match.js";
import { LocalMedia } from "./local_media.js";
import { MatchResume } from "./match_resume.js";
import { setUpPhoneLayout } from "./phone_layout.js";
import { ProofOfWork } from "./pow.js";
import { Reporting } from "./reporting.js";
import { RulesGate } from "./rules_gate.js";
import { ServerEvents } from "./server_events.js";
import { Shield } from "./shield.js";
import { Signaling, signalingUrl } from "./signaling.js";
import { ChatTranslation } from "./translate.js";

const $ = (id) => document.getElementById(id);
const root = $("call");
const ui = callElements($);
const view = new CallView(root, ui);
const translation = new ChatTranslation({ auto: $("translate-auto"), notify: (text) => chat.add(text, "notice") });
const chat = new ChatView({
  translation,
  log: $("chat-log"),
  scroller: $("chat-scroller"),
  typing: $("typing"),
  form: $("chat-form"),
  input: $("message"),
  button: $("send"),
});
const shield = new Shield({
  root: $("shield-notice"),
  video: ui.remoteVideo,
  toggle: $("shield-switch"),
  onNext: () => next(),
  onReport: (reason) => reporting.report(reason, true, reporting.target()),
});

const phase = new CallPhase((current, status) => {
  view.phase(current, status);
  reporting.refreshButton();
});
const resume = new MatchResume();
// A call waiting to be resumed has only the server's grace: reconnect at once.
const signaling = new Signaling(signalingUrl(root.dataset.wsPath), { hurry: () => resume.awaiting });
// The call that just ended stays reportable for a little while (the Report button offers it).
const lastMatch = new LastMatch(() => reporting.refreshButton());
// A long call's TURN credential expires; an ICE restart after that needs a fresh one.
const iceRefresh = new IceRefresh(() => signaling.send({ type: "refresh_ice_servers" }));
const gate = new RulesGate($("rules-dialog"));
// The solver's URL comes from the template, so that it is the hashed name once collectstatic ran.
const pow = new ProofOfWork({ workerUrl: root.dataset.powWorker });
const page = { search, start, strangerLeft, couldNotConnect, idle, linkChanged: () => reporting.refreshButton() };
const admission = new Admission({ signaling, gate, pow, phase, page });
const media = new LocalMedia(ui, { unavailable: (status) => phase.pause(status), session: () => call.session, start });
const call = new CurrentCall({ ui, view, chat, shield, translation, signaling, resume, iceRefresh, lastMatch, media, phase, admission, page });
const reporting = new Reporting({ signaling, call, lastMatch, resume, phase, ui, view, chat });
new ServerEvents({ phase, call, admission, resume, iceRefresh, reports: reporting.sender, lastMatch, view, chat, page }).listen(signaling);

// Read by the browser tests, and handy in the console.
window.alienmeet = {
  get phase() { return phase.phase; },
  get matchId() { return call.session ? call.session.matchId : null; },
  get peerConnection() { return call.session ? call.session.pc : null; },
  get dataChannel() { return call.session ? call.session.channel : null; },
  get detached() { return call.unlinked; },
  get resuming() { return resume.awaiting; },
  get signalingOpen() { return signaling.isOpen; },
  // A new connection is planned for later (after a refusal that said when to come back, or a loss).
  get reconnectPlanned() { return signaling.retryTimer !== null; },
  get pictureRecoveries() { return call.pictureRecoveries; },
  get offerCollisions() { return call.session ? call.session.collisions : 0; },
  get polite() { return call.session ? call.session.polite : null; },
  // What the link watch does on silence (tests restart two pages at once).
  restartIce() { if (call.session) call.session.restart(); },
};

// Idle, with the reason on the stranger's side too; a visitor who wants a call keeps wanting it.
function idle(message) {
  phase.pause(message);
  view.remoteMessage(message);
}

async function start() {
  try {
    admission.interests = parseInterests(ui.interests.value);
  } catch (error) {
    view.status(error.message);
    ui.interests.focus();
    return;
  }
  try {
    admission.languages = parseLanguages(ui.languages.value);
  } catch (error) {
    view.status(error.message);
    ui.languages.focus();
    return;
  }
  translation.setSpoken(admission.languages);
  if (!(await gate.ask())) {
    view.status(gettext("Please accept the rules to meet strangers."));
    return;
  }
  if (!media.decided && !(await media.acquire())) return;
  phase.wantCall = true;
  shield.prepare();
  search("join");
}

function search(kind) {
  call.end();
  phase.search(gettext("Looking for a stranger…"));
  view.remoteMessage(gettext("Looking for a stranger…"));
  // If the socket is down, the next hello sends the join.
  admission.admit(kind === "next" ? { type: "next" } : admission.join);
}

// No path to this stranger within the deadline: say so and queue again, whatever Auto-next says,
// since the visitor never got a call. `kind` is "next" while the server still holds the match.
function couldNotConnect(kind) {
  call.failedToConnect();
  search(kind);
  const notice = gettext("Couldn't connect to this stranger. Looking for someone new…");
  chat.add(notice, "notice");
  view.status(notice);
  view.remoteMessage(notice);
}

function strangerLeft() {
  call.end();
  chat.add(gettext("Stranger left."), "notice");
  if (phase.wantCall && ui.autoNext.checked) {
    search("join");
    view.status(gettext("Stranger left. Looking for someone new…"));
  } else {
    signaling.send({ type: "leave" });
    phase.stop(gettext("Stranger left. Press Talk to Aliens to meet someone new."));
    view.remoteMessage(gettext("Stranger left."));
  }
}

function next() {
  if (phase.idle) return;
  call.sayBye();
  const wasInCall = Boolean(call.session);
  search("next");
  if (wasInCall) chat.add(gettext("You moved on."), "notice");
}

function stop() {
  call.sayBye();
  call.end();
  signaling.send({ type: "leave" });
  phase.stop(gettext("Stopped. Press Talk to Aliens whenever you're ready."));
  view.remoteMessage(gettext("Press “Talk to Aliens” to meet a random stranger."));
}

// Controls.

view.showLanguages();
ui.startForm.addEventListener("submit", (event) => {
  event.preventDefault();
  start();
});
ui.next.addEventListener("click", next);
ui.stop.addEventListener("click", stop);
setUpPhoneLayout({
  root,
  remote: ui.remoteVideo.parentElement,
  picture: ui.localVideo.parentElement,
  pictureButton: $("local-move"),
  optionsButton: $("more-options"),
  options: $("call-options"),
  onNext: next, // a swipe is the Next button: same limits, same notices
});
reporting.wire($);
media.wire($);
ui.hideIp.addEventListener("change", () => call.relayOnlyChanged());
call.wireChat();
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !phase.idle) {
    event.preventDefault();
    next();
  }
});

signaling.connect();
// Rules first: the gate opens before anything else is asked of the visitor.
gate.ask();
