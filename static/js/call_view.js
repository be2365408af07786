// What the call page shows outside the chat: status line, the stranger's overlay and badges, the
// visitor count, the connection figures, the controls' enabled state and the "I speak" names.

import { format, formatNumber, gettext, ngettext } from "./i18n.js";
import { browserLanguages, describeLanguages, parseLanguages } from "./languages.js";

// The page's elements by id (templates/meet/call.html).
export function callElements(byId) {
  return {
    status: byId("status"),
    online: byId("online"),
    remoteVideo: byId("remote-video"),
    remoteOverlay: byId("remote-overlay"),
    remoteMessage: byId("remote-message"),
    badgeCamera: byId("badge-camera"),
    badgeMic: byId("badge-mic"),
    connInfo: byId("conn-info"),
    localVideo: byId("local-video"),
    localOff: byId("local-off"),
    mediaProblem: byId("media-problem"),
    mediaProblemText: byId("media-problem-text"),
    startForm: byId("start-form"),
    interests: byId("interests"),
    languages: byId("languages"),
    languagesNames: byId("languages-names"),
    start: byId("start"),
    next: byId("next"),
    stop: byId("stop"),
    mute: byId("mute"),
    camera: byId("camera"),
    switchCamera: byId("switch-camera"),
    hideIp: byId("hide-ip"),
    autoNext: byId("auto-next"),
    report: byId("report"),
    reportDialog: byId("report-dialog"),
    reportForm: byId("report-form"),
  };
}

export class CallView {
  constructor(root, ui) {
    this.root = root;
    this.ui = ui;
  }

  phase(phase, status) {
    this.root.dataset.state = phase;
    if (status) this.status(status);
    this.ui.next.disabled = phase === "idle";
    this.ui.stop.disabled = phase === "idle";
  }

  status(text) {
    this.ui.status.textContent = text;
  }

  remoteMessage(text) {
    this.ui.remoteMessage.textContent = text;
    this.ui.remoteOverlay.hidden = !text;
  }

  online(count) {
    if (typeof count !== "number") return;
    this.ui.online.textContent = format(ngettext("%(count)s alien online", "%(count)s aliens online", count), { count: formatNumber(count) });
  }

  // The stranger turned their camera or microphone on or off.
  strangerDevice(kind, on) {
    if (kind === "camera") this.ui.badgeCamera.hidden = on;
    else if (kind === "mic") this.ui.badgeMic.hidden = on;
  }

  // `quality` from PeerSession.quality(): how the call connects, its round trip and its bit rate.
  quality(quality) {
    if (!quality.type) return;
    const parts = [quality.type === "relayed" ? gettext("relayed") : gettext("direct")];
    if (quality.rttMs !== null) parts.push(format(gettext("%(ms)s ms"), { ms: formatNumber(quality.rttMs) }));
    if (quality.kbps !== null) parts.push(format(gettext("%(kbps)s kbps"), { kbps: formatNumber(quality.kbps) }));
    this.ui.connInfo.textContent = parts.join(" · ");
    this.ui.connInfo.hidden = false;
  }

  callEnded() {
    this.ui.remoteVideo.srcObject = null;
    this.ui.badgeCamera.hidden = true;
    this.ui.badgeMic.hidden = true;
    this.ui.connInfo.hidden = true;
  }

  // "I speak" starts with the browser's languages; their own names show beside the codes.
  showLanguages() {
    const { languages, languagesNames } = this.ui;
    const showNames = () => {
      try {
        languagesNames.textContent = describeLanguages(parseLanguages(languages.value));
      } catch (error) {
        languagesNames.textContent = error.message;
      }
    };
    languages.value = browserLanguages().join(", ");
    showNames();
    languages.addEventListener("input", showNames);
  }
}
