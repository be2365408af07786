// The call page: wires the signaling socket, the peer session, media and chat to the UI.

import { ChatView } from "./chat.js";
import { ConnectDeadline } from "./connect_deadline.js";
import { watchConnection } from "./connection_report.js";
import { format, formatList, formatNumber, gettext, ngettext } from "./i18n.js";
import { browserLanguages, describeLanguages, parseLanguages, sharedLanguagesSentence } from "./languages.js";
import { IceRefresh } from "./ice_refresh.js";
import { LastMatch } from "./last_match.js";
import { MatchResume } from "./match_resume.js";
import { MEDIA_AUDIO, MEDIA_FULL, MEDIA_NONE, explainMediaError, hasSeveralCameras, openMedia, otherCamera } from "./media.js";
import { PeerSession } from "./peer.js";
import { PictureWatchdog } from "./picture_watchdog.js";
import { setUpPhoneLayout } from "./phone_layout.js";
import { ProofOfWork } from "./pow.js";
import { ReportSender, collectEvidence, recentChat } from "./report.js";
import { RulesGate } from "./rules_gate.js";
import { Shield } from "./shield.js";
import { Signaling, signalingUrl } from "./signaling.js";
import { ChatTranslation } from "./translate.js";

const $ = (id) => document.getElementById(id);
const root = $("call");
const ui = {
  status: $("status"),
  online: $("online"),
  remoteVideo: $("remote-video"),
  remoteOverlay: $("remote-overlay"),
  remoteMessage: $("remote-message"),
  badgeCamera: $("badge-camera"),
  badgeMic: $("badge-mic"),
  connInfo: $("conn-info"),
  localVideo: $("local-video"),
  localOff: $("local-off"),
  mediaProblem: $("media-problem"),
  mediaProblemText: $("media-problem-text"),
  startForm: $("start-form"),
  interests: $("interests"),
  languages: $("languages"),
  languagesNames: $("languages-names"),
  start: $("start"),
  next: $("next"),
  stop: $("stop"),
  mute: $("mute"),
  camera: $("camera"),
  switchCamera: $("switch-camera"),
  hideIp: $("hide-ip"),
  autoNext: $("auto-next"),
  report: $("report"),
  reportDialog: $("report-dialog"),
  reportForm: $("report-form"),
};
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
  onReport: (reason) => report(reason, true, reportTarget()),
});

const MAX_INTERESTS = 5;
const MAX_INTEREST_LENGTH = 24;
const STATS_EVERY_MS = 2000;
const ADMISSION_REFUSALS = new Set(["rules_required", "pow_required", "pow_invalid", "pow_expired"]);
// The server closed this socket because a newer one of ours resumed its match.
const CLOSE_RESUMED_ELSEWHERE = 4010;
// Turned away at the door: too many connections from this address (the `error` before it says why).
const CLOSE_TOO_MANY_CONNECTIONS = 4029;

const state = {
  phase: "idle", // idle | searching | connecting | connected
  wantCall: false, // the visitor asked to meet strangers, until Stop
  mediaMode: null, // full | audio | none, once decided
  localStream: null,
  iceServers: [],
  relayOffered: false, // hello says whether calls get a TURN relay; its credentials come with `matched`
  interests: [],
  languages: [],
  session: null,
  connectDeadline: null, // from `matched` until the call first connects
  connectionWatch: null, // reports once how this call connected (connection_report.js)
  pictureWatchdog: null, // brings back the stranger's picture if it freezes (picture_watchdog.js)
  pictureRecoveries: 0, // on this page, for the tests
  detached: false, // the call goes on peer to peer, but the server no longer links the two of us
  statsTimer: null,
  lastQuality: null,
};

const resume = new MatchResume();
// A call waiting to be resumed has only the server's grace: reconnect at once.
const signaling = new Signaling(signalingUrl(root.dataset.wsPath), { hurry: () => resume.awaiting });
const reports = new ReportSender(signaling, { filed: reportFiled, failed: reportFailed });
// The call that just ended stays reportable for a little while (the Report button offers it).
const lastMatch = new LastMatch(() => refreshReportButton());
// A long call's TURN credential expires; an ICE restart after that needs a fresh one.
const iceRefresh = new IceRefresh(() => signaling.send({ type: "refresh_ice_servers" }));
const gate = new RulesGate($("rules-dialog"));
// The solver's URL comes from the template, so that it is the hashed name once collectstatic ran.
const pow = new ProofOfWork({ workerUrl: root.dataset.powWorker });

// Read by the browser tests, and handy in the console.
window.alienmeet = {
  get phase() { return state.phase; },
  get matchId() { return state.session ? state.session.matchId : null; },
  get peerConnection() { return state.session ? state.session.pc : null; },
  get dataChannel() { return state.session ? state.session.channel : null; },
  get detached() { return state.detached; },
  get resuming() { return resume.awaiting; },
  get signalingOpen() { return signaling.isOpen; },
  get pictureRecoveries() { return state.pictureRecoveries; },
  get offerCollisions() { return state.session ? state.session.collisions : 0; },
  get polite() { return state.session ? state.session.polite : null; },
  // What the link watch does on silence (tests restart two pages at once).
  restartIce() { if (state.session) state.session.restart(); },
};

function setPhase(phase, status) {
  state.phase = phase;
  root.dataset.state = phase;
  if (status) ui.status.textContent = status;
  ui.next.disabled = phase === "idle";
  ui.stop.disabled = phase === "idle";
  refreshReportButton();
}

// Report the current stranger; between calls, the last one, for a little while after. Not during
// an unlinked call: the server no longer knows it, and the last one is someone else.
function refreshReportButton() {
  ui.report.disabled = state.session ? state.detached : !lastMatch.reportable;
}

// Whom a report is about: decided when the visitor asks, not when the dialog is sent, since the
// stranger may skip on (and a new one arrive) while the visitor picks a reason.
function reportTarget() {
  if (state.session) return state.detached ? null : state.session.matchId;
  return lastMatch.matchId;
}

// The call goes on peer to peer, but the server no longer links the two of us.
function detach() {
  state.detached = true;
  refreshReportButton();
}

function showRemoteMessage(text) {
  ui.remoteMessage.textContent = text;
  ui.remoteOverlay.hidden = !text;
}

function showOnline(count) {
  if (typeof count !== "number") return;
  ui.online.textContent = format(ngettext("%(count)s alien online", "%(count)s aliens online", count), { count: formatNumber(count) });
}

function parseInterests(text) {
  const words = [];
  for (const raw of text.split(",")) {
    const word = raw.trim().toLowerCase();
    if (!word || words.includes(word)) continue;
    if (word.length > MAX_INTEREST_LENGTH) throw new Error(format(gettext("Each interest can be at most %(max)s characters."), { max: formatNumber(MAX_INTEREST_LENGTH) }));
    words.push(word);
  }
  if (words.length > MAX_INTERESTS) throw new Error(format(gettext("Up to %(max)s interests, please."), { max: formatNumber(MAX_INTERESTS) }));
  return words;
}

// Media.

function useStream(stream, mode) {
  state.localStream = stream;
  state.mediaMode = mode;
  ui.localVideo.srcObject = stream;
  const hasVideo = Boolean(stream && stream.getVideoTracks().length);
  const hasAudio = Boolean(stream && stream.getAudioTracks().length);
  ui.localOff.hidden = hasVideo;
  ui.localOff.textContent = hasVideo ? gettext("Camera off") : hasAudio ? gettext("Audio only") : gettext("Text only");
  ui.camera.disabled = !hasVideo;
  ui.mute.disabled = !hasAudio;
  ui.mediaProblem.hidden = true;
  if (hasVideo) hasSeveralCameras().then((several) => { ui.switchCamera.hidden = !several; });
}

async function acquire(mode) {
  ui.status.textContent = gettext("Asking for your camera and microphone…");
  try {
    useStream(await openMedia(mode), mode);
    return true;
  } catch (error) {
    ui.mediaProblemText.textContent = explainMediaError(error);
    ui.mediaProblem.hidden = false;
    setPhase("idle", gettext("Camera and microphone are not available."));
    ui.mediaProblem.querySelector("button").focus();
    return false;
  }
}

async function start() {
  try {
    state.interests = parseInterests(ui.interests.value);
  } catch (error) {
    ui.status.textContent = error.message;
    ui.interests.focus();
    return;
  }
  try {
    state.languages = parseLanguages(ui.languages.value);
  } catch (error) {
    ui.status.textContent = error.message;
    ui.languages.focus();
    return;
  }
  translation.setSpoken(state.languages);
  if (!(await gate.ask())) {
    ui.status.textContent = gettext("Please accept the rules to meet strangers.");
    return;
  }
  if (state.mediaMode === null && !(await acquire(MEDIA_FULL))) return;
  state.wantCall = true;
  shield.prepare();
  search("join");
}

function search(kind) {
  endSession();
  setPhase("searching", gettext("Looking for a stranger…"));
  showRemoteMessage(gettext("Looking for a stranger…"));
  // If the socket is down, the next hello sends the join.
  admit(kind === "next" ? { type: "next" } : { type: "join", interests: state.interests, languages: state.languages });
}

// Join and a connection's first Next carry the accepted rules and the solved challenge.
async function admit(message) {
  const solution = await pow.solution();
  // `resume: true`: every `matched` on this connection then carries a token to take the match over
  // on a new connection if this one breaks.
  if (state.phase !== "searching") return;
  if (signaling.send({ ...message, resume: true, rules: gate.acceptedVersion, pow: solution })) return;
  // Turned away earlier for too many connections from this address: the visitor may have freed one
  // since. (A connection on its way sends the join itself once its hello comes.)
  signaling.reconnect();
}

function admissionRefused({ code, message, rules, challenge, retry_after: retryAfter }) {
  if (code === "rules_required") {
    gate.useVersion(rules);
    state.wantCall = false;
    setPhase("idle", message);
    showRemoteMessage(message);
    gate.ask().then((accepted) => { if (accepted) start(); });
  } else if (code === "rate_limited") {
    // Too many Next presses: this side already left the call, so leave the queue and look again later.
    signaling.send({ type: "leave" });
    setPhase("idle", message);
    showRemoteMessage(message);
    setTimeout(() => { if (state.wantCall && state.phase === "idle") search("join"); }, retryAfter * 1000);
  } else if (pow.retry(challenge) && state.phase === "searching") {
    admit({ type: "join", interests: state.interests, languages: state.languages });
  } else {
    state.wantCall = false;
    setPhase("idle", message);
  }
}

// The peer session.

function startSession({ match_id: matchId, polite, interests, languages = [] }) {
  endSession();
  const session = new PeerSession({
    matchId,
    polite,
    iceServers: state.iceServers,
    relayOnly: ui.hideIp.checked,
    localStream: state.localStream,
    // While the socket is down and the call not yet resumed, signals are dropped rather than
    // queued: the stranger may have moved on meanwhile, and after `resumed` the session re-sends
    // an offer still waiting for its answer and restarts ICE, which gathers and sends new
    // candidates (PeerSession.resume).
    sendSignal: (data) => {
      if (state.session === session && !state.detached && !resume.cutOff) signaling.send({ type: "signal", match_id: matchId, data });
    },
  });
  state.session = session;
  chat.startCall(matchId);
  refreshReportButton();
  state.detached = false;
  // Stopped (or told the call failed) by endSession, which runs before the frame that ends the match
  // on the server: a report is never dropped for a call that has just ended.
  state.connectionWatch = watchConnection(session.pc, (report) => {
    if (!state.detached && !resume.cutOff) signaling.send({ type: "connection_report", match_id: matchId, ...report });
  });
  state.pictureWatchdog = new PictureWatchdog(ui.remoteVideo, () => session.framesDecoded(), {
    onFrozen: () => {
      if (state.session !== session) return;
      ui.remoteVideo.srcObject = new MediaStream(session.remoteStream.getTracks());
      session.askForPicture();
    },
    onRecovered: () => {
      if (state.session !== session) return;
      state.pictureRecoveries += 1;
      if (!state.detached && !resume.cutOff) signaling.send({ type: "picture_recovered", match_id: matchId });
    },
  });
  shield.startCall();
  const current = (handler) => (event) => { if (state.session === session) handler(event); };
  session.addEventListener("remotestream", current((event) => { ui.remoteVideo.srcObject = event.detail; }));
  session.addEventListener("state", current((event) => onConnectionState(event.detail)));
  session.addEventListener("channelopen", current(() => {
    chat.enable(true);
    session.sendPeer({ kind: "mic", on: ui.mute.getAttribute("aria-pressed") !== "true" });
    session.sendPeer({ kind: "camera", on: Boolean(state.localStream && state.localStream.getVideoTracks().some((t) => t.enabled)) });
  }));
  // While our socket is down the server cannot tell us the stranger left; their page closing the
  // call (or their `bye`, sent only once the server no longer links them) says it.
  session.addEventListener("channelclose", current(() => {
    chat.enable(false);
    if (state.detached || resume.cutOff) strangerLeft();
  }));
  session.addEventListener("peermessage", current((event) => onPeerMessage(event.detail)));
  chat.add(
    interests.length
      ? format(gettext("Matched! You both like %(interests)s."), { interests: formatList(interests) })
      : gettext("Matched with a random stranger. Say hi!"),
    "notice",
  );
  if (languages.length) chat.add(sharedLanguagesSentence(languages), "notice");
  translation.startCall(matchId, languages, state.languages);
  setPhase("connecting", gettext("Connecting…"));
  showRemoteMessage(gettext("Connecting…"));
  state.connectDeadline = new ConnectDeadline(() => { if (state.session === session) couldNotConnect("next"); });
}

// No path to this stranger within the deadline: say so and queue again, whatever Auto-next says,
// since the visitor never got a call. `kind` is "next" while the server still holds the match.
function couldNotConnect(kind) {
  // Counted by both browsers, even when the stranger's page gave up a moment sooner.
  if (state.connectionWatch) state.connectionWatch.finish({ failed: true });
  state.wantCall = true;
  search(kind);
  chat.add(gettext("Couldn't connect to this stranger. Looking for someone new…"), "notice");
  ui.status.textContent = gettext("Couldn't connect to this stranger. Looking for someone new…");
  showRemoteMessage(gettext("Couldn't connect to this stranger. Looking for someone new…"));
}

function onConnectionState(connectionState) {
  if (connectionState === "connected") {
    if (state.connectDeadline) state.connectDeadline.cancel();
    setPhase("connected", gettext("Connected"));
    showRemoteMessage("");
    startStats();
  } else if (connectionState === "disconnected" || connectionState === "failed") {
    ui.status.textContent = gettext("Reconnecting to the stranger…");
    if (state.detached && connectionState === "failed") strangerLeft();
  }
}

function onPeerMessage(message) {
  switch (message.kind) {
    case "text":
      chat.add(message.text, "stranger");
      break;
    case "typing":
      chat.showTyping();
      break;
    case "camera":
      ui.badgeCamera.hidden = message.on;
      break;
    case "mic":
      ui.badgeMic.hidden = message.on;
      break;
    case "bye":
      // While the server links us, only its `partner_left` ends the match: a `bye` then
      // would have us queue again while the server still holds the call.
      if (state.detached || resume.cutOff) strangerLeft();
      break;
    default:
      break;
  }
}

function endSession() {
  const session = state.session;
  if (!session) return;
  if (state.connectionWatch) state.connectionWatch.finish();
  state.connectionWatch = null;
  // Someone who exposes themselves tends to leave, or be skipped, before Report is pressed.
  if (!state.detached) lastMatch.ended(session.matchId, recentChat(chat.log, session.matchId));
  state.session = null;
  state.detached = false;
  resume.forget();
  iceRefresh.stop();
  shield.endCall();
  if (state.connectDeadline) state.connectDeadline.cancel();
  state.connectDeadline = null;
  if (state.pictureWatchdog) state.pictureWatchdog.stop();
  state.pictureWatchdog = null;
  session.close();
  clearInterval(state.statsTimer);
  state.lastQuality = null;
  ui.remoteVideo.srcObject = null;
  ui.badgeCamera.hidden = true;
  ui.badgeMic.hidden = true;
  ui.connInfo.hidden = true;
  chat.enable(false);
  chat.clearTyping();
}

function strangerLeft() {
  endSession();
  chat.add(gettext("Stranger left."), "notice");
  if (state.wantCall && ui.autoNext.checked) {
    search("join");
    ui.status.textContent = gettext("Stranger left. Looking for someone new…");
  } else {
    state.wantCall = false;
    signaling.send({ type: "leave" });
    setPhase("idle", gettext("Stranger left. Press Talk to Aliens to meet someone new."));
    showRemoteMessage(gettext("Stranger left."));
  }
}

function startStats() {
  clearInterval(state.statsTimer);
  const session = state.session;
  state.statsTimer = setInterval(async () => {
    if (state.session !== session) return;
    const quality = await session.quality(state.lastQuality);
    state.lastQuality = quality;
    if (!quality.type) return;
    const parts = [quality.type === "relayed" ? gettext("relayed") : gettext("direct")];
    if (quality.rttMs !== null) parts.push(format(gettext("%(ms)s ms"), { ms: formatNumber(quality.rttMs) }));
    if (quality.kbps !== null) parts.push(format(gettext("%(kbps)s kbps"), { kbps: formatNumber(quality.kbps) }));
    ui.connInfo.textContent = parts.join(" · ");
    ui.connInfo.hidden = false;
  }, STATS_EVERY_MS);
}

// Controls.

function next() {
  if (state.phase === "idle") return;
  if (state.session && state.detached) state.session.sendPeer({ kind: "bye" });
  const wasInCall = Boolean(state.session);
  state.wantCall = true;
  search("next");
  if (wasInCall) chat.add(gettext("You moved on."), "notice");
}

function stop() {
  if (state.session && state.detached) state.session.sendPeer({ kind: "bye" });
  state.wantCall = false;
  endSession();
  signaling.send({ type: "leave" });
  setPhase("idle", gettext("Stopped. Press Talk to Aliens whenever you're ready."));
  showRemoteMessage(gettext("Press “Talk to Aliens” to meet a random stranger."));
}

async function report(reason, withEvidence, target) {
  const session = state.session;
  if (!target) return;
  if (!session || session.matchId !== target || state.detached) {
    // That call has ended since: it is the last one now, or gone.
    if (lastMatch.matchId === target) reportLast(reason, withEvidence);
    else chat.add(gettext("That call is over; nothing was reported."), "notice");
    return;
  }
  if (resume.cutOff) return;
  const evidence = withEvidence ? await collectEvidence({ video: ui.remoteVideo, log: chat.log, callId: session.matchId }) : null;
  if (state.session !== session) return; // the call ended while the snapshot was taken
  if (!reports.send(session.matchId, reason, evidence)) return;
  endSession();
  lastMatch.forget();
  // Thanks only once the server says it is filed (reportFiled); the call ends either way.
  chat.add(gettext("Sending your report… You moved on."), "notice");
  state.wantCall = true;
  setPhase("searching", gettext("Looking for a stranger…"));
  showRemoteMessage(gettext("Looking for a stranger…"));
}

// The stranger of the call that just ended: their picture is gone, their chat lines were kept.
function reportLast(reason, withEvidence) {
  const evidence = withEvidence && lastMatch.chat.length ? { chat: lastMatch.chat } : null;
  if (!reports.send(lastMatch.matchId, reason, evidence, { ended: true })) {
    chat.add(gettext("Not connected to AlienMeet just now; nothing was reported."), "notice");
    return;
  }
  lastMatch.forget();
  chat.add(gettext("Sending your report…"), "notice");
}

function reportFiled(report) {
  if (report.retry) chat.add(gettext("Thanks. Your report was filed."), "notice");
  else if (report.ended) chat.add(gettext("Thanks. The last stranger was reported."), "notice");
  else chat.add(gettext("Thanks. The stranger was reported and you moved on."), "notice");
  for (const button of chat.log.querySelectorAll("button[data-report-again]")) {
    if (button.dataset.reportAgain === report.matchId) button.remove();
  }
}

// Nothing was filed: say so, and offer the same report (reason and evidence) again, unless the server
// no longer knows that call (`not_matched`) or this connection, which alone could report it, is gone.
function reportFailed(report, code, message) {
  if (code === "connection_lost") {
    chat.add(gettext("The connection to AlienMeet was lost before your report was answered; it may not have been filed."), "notice");
    return;
  }
  if (code === "not_matched") {
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
    if (!reports.send(report.matchId, report.reason, report.evidence, { ended: true, retry: true })) {
      chat.add(gettext("Not connected to AlienMeet just now; nothing was reported."), "notice");
      return;
    }
    again.remove();
    chat.add(gettext("Sending your report…"), "notice");
  });
  chat.log.lastElementChild.append(" ", again);
}

function toggle(button, kind, tracks, localOff) {
  const off = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", String(off));
  for (const track of tracks) track.enabled = !off;
  if (localOff) localOff.hidden = !off;
  if (state.session) state.session.sendPeer({ kind, on: !off });
}

// "I speak" starts with the browser's languages; their own names show beside the codes.
function showLanguageNames() {
  try {
    ui.languagesNames.textContent = describeLanguages(parseLanguages(ui.languages.value));
  } catch (error) {
    ui.languagesNames.textContent = error.message;
  }
}
ui.languages.value = browserLanguages().join(", ");
showLanguageNames();
ui.languages.addEventListener("input", showLanguageNames);

ui.startForm.addEventListener("submit", (event) => {
  event.preventDefault();
  start();
});
ui.next.addEventListener("click", next);
setUpPhoneLayout({
  root,
  remote: ui.remoteVideo.parentElement,
  picture: ui.localVideo.parentElement,
  pictureButton: $("local-move"),
  optionsButton: $("more-options"),
  options: $("call-options"),
  onNext: next, // a swipe is the Next button: same limits, same notices
});
let dialogTarget = null;
ui.report.addEventListener("click", () => {
  dialogTarget = reportTarget();
  ui.reportForm.reset();
  ui.reportDialog.showModal();
});
$("report-cancel").addEventListener("click", () => ui.reportDialog.close());
ui.reportForm.addEventListener("submit", () => {
  const form = new FormData(ui.reportForm);
  if (form.get("reason")) report(form.get("reason"), form.get("evidence") === "on", dialogTarget);
});
ui.stop.addEventListener("click", stop);
ui.mute.addEventListener("click", () => toggle(ui.mute, "mic", state.localStream ? state.localStream.getAudioTracks() : []));
ui.camera.addEventListener("click", () =>
  toggle(ui.camera, "camera", state.localStream ? state.localStream.getVideoTracks() : [], ui.localOff),
);
ui.switchCamera.addEventListener("click", async () => {
  const current = state.localStream && state.localStream.getVideoTracks()[0];
  if (!current) return;
  try {
    const track = await otherCamera(current);
    if (state.session) await state.session.replaceVideoTrack(track);
    state.localStream.removeTrack(current);
    current.stop();
    state.localStream.addTrack(track);
    ui.localVideo.srcObject = state.localStream;
  } catch {
    ui.status.textContent = gettext("Could not switch camera.");
  }
});
ui.hideIp.addEventListener("change", () => {
  const relayOnly = ui.hideIp.checked;
  const hasTurn = state.iceServers.some((server) => [].concat(server.urls).some((url) => url.startsWith("turn")));
  // Before a call only hello's `relay` tells: the relay's credentials come with `matched`.
  const relayAvailable = hasTurn || (!state.session && state.relayOffered);
  if (relayOnly && !relayAvailable) ui.status.textContent = gettext("Hide my IP needs our relay, which is not available right now.");
  if (state.session) state.session.setRelayOnly(relayOnly, state.iceServers);
});
$("media-retry").addEventListener("click", async () => { if (await acquire(MEDIA_FULL)) start(); });
$("media-audio").addEventListener("click", async () => { if (await acquire(MEDIA_AUDIO)) start(); });
$("media-none").addEventListener("click", () => {
  useStream(null, MEDIA_NONE);
  start();
});
chat.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = chat.take();
  if (!text) return;
  if (state.session && state.session.sendPeer({ kind: "text", text })) {
    chat.add(text, "me");
  } else {
    chat.add(gettext("Not sent: you are not connected to a stranger yet."), "notice");
  }
});
chat.input.addEventListener("input", () => {
  if (state.session && chat.input.value && chat.typingDue()) state.session.sendPeer({ kind: "typing" });
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.phase !== "idle") {
    event.preventDefault();
    next();
  }
});

// Signaling.

signaling.addEventListener("hello", (event) => {
  // Before anything else on a new connection: it must not look like a newcomer to the server.
  const resumeRequest = state.session ? resume.request(() => resumeFailed(false)) : null;
  if (resumeRequest) signaling.send(resumeRequest);
  // A call left while cut off is ended on the server now, rather than when its grace runs out.
  else for (const frame of resume.farewell() || []) signaling.send(frame);
  pow.start(event.detail.challenge);
  gate.useVersion(event.detail.rules);
  // hello carries STUN only: a call going on keeps the servers (and TURN credential) it was given.
  if (!state.session) state.iceServers = event.detail.ice_servers || [];
  state.relayOffered = event.detail.relay === true;
  showOnline(event.detail.online);
  if (resumeRequest) {
    // The call goes on once `resumed` (or, failing that, `resume_failed`) answers.
  } else if (state.session) {
    // A new socket means a new identity on the server: the call continues peer to peer only.
    detach();
  } else if (state.wantCall) {
    search("join");
  } else if (state.phase === "idle") {
    ui.status.textContent = gettext("Ready when you are.");
  }
});
signaling.addEventListener("online", (event) => showOnline(event.detail.count));
signaling.addEventListener("waiting", () => {
  if (state.phase === "searching") showRemoteMessage(gettext("Looking for a stranger…"));
});
signaling.addEventListener("matched", (event) => {
  if (!state.wantCall) {
    signaling.send({ type: "leave" });
    return;
  }
  if (event.detail.ice_servers) state.iceServers = event.detail.ice_servers; // fresh TURN credential per call
  startSession(event.detail);
  resume.remember(event.detail);
  iceRefresh.schedule(state.iceServers);
});
signaling.addEventListener("resumed", (event) => {
  const session = state.session;
  if (!session || !resume.isOurs(event.detail)) return;
  resume.remember(event.detail); // the next token: each works once
  state.detached = false; // even after giving up waiting for this answer: the server links us again
  if (event.detail.ice_servers) state.iceServers = event.detail.ice_servers;
  setPhase(state.phase, state.phase === "connected" ? gettext("Connected") : gettext("Connecting…"));
  session.resume(state.iceServers);
  iceRefresh.schedule(state.iceServers);
});
signaling.addEventListener("ice_servers", (event) => {
  iceRefresh.answered();
  const servers = event.detail.ice_servers;
  if (!state.session || !Array.isArray(servers)) return;
  state.iceServers = servers;
  state.session.useIceServers(servers);
  iceRefresh.schedule(servers);
});
signaling.addEventListener("partner_resumed", (event) => {
  const session = state.session;
  if (!session || session.matchId !== event.detail.match_id || state.detached || resume.cutOff) return;
  // What we sent while the stranger's socket was down is lost, and their network may have changed:
  // the restart offerer (peer.js) restarts ICE, the other side waits for that offer.
  session.partnerResumed();
});
signaling.addEventListener("signal", (event) => {
  const { match_id: matchId, data } = event.detail;
  if (state.session && state.session.matchId === matchId && !state.detached) state.session.handleSignal(data);
});
signaling.addEventListener("partner_left", (event) => {
  // Our report crossed the stranger's Next or Stop: the server filed it for a call already over, so
  // it did not queue us as it does after a report; the page, looking for someone new, asks itself.
  if (reports.crossedBy(event.detail.match_id)) {
    if (state.phase === "searching") admit({ type: "join", interests: state.interests, languages: state.languages });
    return;
  }
  const session = state.session;
  if (!session || session.matchId !== event.detail.match_id) return;
  if (state.connectDeadline && state.connectDeadline.nearlyExpired()) {
    couldNotConnect("join");
    return;
  }
  // Lost touch with the server, not with us: the call goes on unless their page closed it (a
  // stranger who left while the server still held their side for them to resume).
  if (event.detail.reason === "disconnect" && session.pc.connectionState === "connected" && session.channelOpen) {
    detach();
    chat.add(gettext("The stranger lost touch with our server, but your call goes on."), "notice");
    return;
  }
  strangerLeft();
});

// The server no longer holds our match (`resume_failed`: the stranger left, or the server's grace
// ran out or it restarted), or cannot resume at all (an older server; no answer in time). As with
// `partner_left`: the call is over, unless it still runs peer to peer. Then the stranger is still
// there (had they left, their page would have closed the data channel), and the server has told
// them, or will, that we lost touch: the call goes on unlinked, as the stranger's page does.
function resumeFailed(matchEnded) {
  const session = state.session;
  if (matchEnded) {
    resume.settle(); // answered: nothing is left for the server to hold
    resume.forget();
  }
  else resume.settle(); // a late `resumed` still links us again
  if (!session) return;
  if (state.connectDeadline && state.connectDeadline.nearlyExpired()) {
    couldNotConnect("join");
    return;
  }
  if (session.pc.connectionState === "connected" && session.channelOpen) {
    detach();
    ui.status.textContent = gettext("Connected");
    return;
  }
  strangerLeft();
}
// The address has too many connections open, or opened too many this minute. For the rate, the
// signaling connection comes back by itself when the server says, and a visitor who asked to meet
// strangers is then queued; for open connections, only the visitor can free one (Talk to Aliens).
function tooManyConnections({ message, reason }) {
  ui.status.textContent = message;
  if (state.session) {
    // The call goes on peer to peer meanwhile; without a connection to come back, unlinked.
    if (reason !== "rate") detach();
    return;
  }
  if (reason !== "rate") state.wantCall = false;
  setPhase("idle", message);
  showRemoteMessage(message);
}
signaling.addEventListener("error", (event) => {
  const { code, message } = event.detail;
  if (resume.refusedBy(code)) {
    resumeFailed(code === "resume_failed");
  } else if (reports.refusedBy(event.detail)) {
    // The answer to a report: reportFailed tells the visitor.
  } else if (iceRefresh.refusedBy(code)) {
    if ("retry_after" in event.detail) iceRefresh.retryAfter(event.detail.retry_after);
  } else if (code === "too_many_connections") {
    tooManyConnections(event.detail);
  } else if (code === "banned") {
    state.wantCall = false;
    ui.start.disabled = true;
    setPhase("idle", message);
    showRemoteMessage(message);
  } else if (ADMISSION_REFUSALS.has(code) || (code === "rate_limited" && "retry_after" in event.detail)) {
    admissionRefused(event.detail);
  } else if (code === "unavailable" || code === "rate_limited") ui.status.textContent = message;
  else if (code !== "not_matched" && code !== "resume_failed") console.warn("server refused a message:", code, message);
});
signaling.addEventListener("close", (event) => {
  // A new connection is a new visitor to the server: it cannot report the old one's calls.
  lastMatch.forget();
  // The server's own words on why it turned us away stay on screen.
  const turnedAway = event.detail.code === CLOSE_TOO_MANY_CONNECTIONS;
  if (event.detail.final) {
    if (!ui.start.disabled && !turnedAway) ui.status.textContent = gettext("Disconnected from AlienMeet.");
    return;
  }
  // A newer connection of ours took the match over; this one's loss changes nothing.
  if (event.detail.code === CLOSE_RESUMED_ELSEWHERE) return;
  if (!turnedAway) ui.status.textContent = gettext("Connection to AlienMeet lost. Reconnecting…");
  const session = state.session;
  if (!session || state.detached) return;
  // Connecting or connected, the call is kept and taken over by the next connection, at once.
  if (resume.connectionLost(session.matchId)) return;
  // No token (an older server): the server forgets us, and the call can only go on peer to peer.
  if (session.pc.connectionState === "connected") {
    detach();
  } else {
    endSession();
  }
});

signaling.connect();
// Rules first: the gate opens before anything else is asked of the visitor.
gate.ask();
