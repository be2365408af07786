// The visitor's own camera and microphone on the call page: asking for them, the media-problem
// choices (try again, audio only, text only), mute, camera off and switching cameras.

import { gettext } from "./i18n.js";
import { MEDIA_AUDIO, MEDIA_FULL, MEDIA_NONE, explainMediaError, hasSeveralCameras, openMedia, otherCamera } from "./media.js";

export class LocalMedia {
  // `ui`: the page's elements (call_view.js); `unavailable(status)`: no media, the page goes idle;
  // `session()`: the current PeerSession or null; `start()`: what Talk to Aliens does.
  constructor(ui, { unavailable, session, start }) {
    this.ui = ui;
    this.unavailable = unavailable;
    this.session = session;
    this.start = start;
    this.stream = null;
    this.mode = null; // full | audio | none, once decided
  }

  get decided() {
    return this.mode !== null;
  }

  get micOn() {
    return this.ui.mute.getAttribute("aria-pressed") !== "true";
  }

  get cameraOn() {
    return Boolean(this.stream && this.stream.getVideoTracks().some((track) => track.enabled));
  }

  use(stream, mode) {
    const { ui } = this;
    this.stream = stream;
    this.mode = mode;
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

  // True once the stream is in use; false after showing the visitor what went wrong.
  async acquire(mode = MEDIA_FULL) {
    const { ui } = this;
    ui.status.textContent = gettext("Asking for your camera and microphone…");
    try {
      this.use(await openMedia(mode), mode);
      return true;
    } catch (error) {
      ui.mediaProblemText.textContent = explainMediaError(error);
      ui.mediaProblem.hidden = false;
      this.unavailable(gettext("Camera and microphone are not available."));
      ui.mediaProblem.querySelector("button").focus();
      return false;
    }
  }

  toggle(button, kind, tracks, localOff) {
    const off = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(off));
    for (const track of tracks) track.enabled = !off;
    if (localOff) localOff.hidden = !off;
    const session = this.session();
    if (session) session.sendPeer({ kind, on: !off });
  }

  async switchCamera() {
    const current = this.stream && this.stream.getVideoTracks()[0];
    if (!current) return;
    try {
      const track = await otherCamera(current);
      const session = this.session();
      if (session) await session.replaceVideoTrack(track);
      this.stream.removeTrack(current);
      current.stop();
      this.stream.addTrack(track);
      this.ui.localVideo.srcObject = this.stream;
    } catch {
      this.ui.status.textContent = gettext("Could not switch camera.");
    }
  }

  // The controls' listeners; `byId` finds the media-problem buttons.
  wire(byId) {
    const { ui } = this;
    ui.mute.addEventListener("click", () => this.toggle(ui.mute, "mic", this.stream ? this.stream.getAudioTracks() : []));
    ui.camera.addEventListener("click", () =>
      this.toggle(ui.camera, "camera", this.stream ? this.stream.getVideoTracks() : [], ui.localOff),
    );
    ui.switchCamera.addEventListener("click", () => this.switchCamera());
    byId("media-retry").addEventListener("click", async () => { if (await this.acquire(MEDIA_FULL)) this.start(); });
    byId("media-audio").addEventListener("click", async () => { if (await this.acquire(MEDIA_AUDIO)) this.start(); });
    byId("media-none").addEventListener("click", () => {
      this.use(null, MEDIA_NONE);
      this.start();
    });
  }
}
