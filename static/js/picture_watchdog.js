// Notices when the stranger's video is decoded but not painted, and has it brought back.
//
// In Chromium an offer collision that makes the polite side roll back can leave its receiver
// decoding frames that never reach the <video> again (docs/connectivity.md): the page says
// "connected", the bytes flow, the picture stands still for good. The watchdog compares, every
// CHECK_EVERY_MS, the frames the <video> presented (requestVideoFrameCallback, and the element's
// own count) with the frames the decoder produced (inbound-rtp framesDecoded): decoded frames
// piling up for STILL_MS while nothing is presented is a frozen picture, and `onFrozen` runs.
// Once frames are presented again after that, `onRecovered` runs (once per freeze).

export const CHECK_EVERY_MS = 500;
export const STILL_MS = 2000;
// Frames that must have been decoded meanwhile: a stranger whose camera sends nothing is not frozen.
const MIN_DECODED = 20;
// A page too busy to render anything shows no new video frame either, and is slow, not frozen. Each
// check asks for one animation frame; of the STILL_MS / CHECK_EVERY_MS checks meanwhile, this many
// must have had theirs rendered. (A loop of animation frames for the whole call kept the page
// drawing 60 frames a second, about a tenth of what a call costs the browser.)
const MIN_RENDERED = 3;
// Time the remedy gets before the watchdog tries again, and how often it tries per call.
const REMEDY_MS = 4000;
const MAX_ATTEMPTS = 4;
// Frames shown after a freeze that say the picture moves again.
const RECOVERED_FRAMES = 5;

export class PictureWatchdog {
  // `framesDecoded`: async () => frames of the stranger's video decoded so far.
  constructor(video, framesDecoded, { onFrozen, onRecovered }) {
    this.video = video;
    this.framesDecoded = framesDecoded;
    this.onFrozen = onFrozen;
    this.onRecovered = onRecovered;
    this.presented = 0;
    this.lastShown = null;
    this.stillSince = 0;
    this.decodedAtStill = 0;
    this.frozen = false; // onFrozen ran and the picture has not moved since
    this.shownSinceFreeze = 0;
    this.attempts = 0;
    this.nextAttemptAt = 0;
    this.checking = false;
    this.stopped = false;
    this.frameHandle = null;
    this.everShown = false;
    // Test hook (tests/browser/test_picture_recovery.py): the page without its watchdog.
    const hooks = globalThis.__alienmeetTest;
    if (hooks && hooks.noPictureWatchdog) {
      this.stopped = true;
      return;
    }
    this.countPresentedFrames();
    this.rendered = 0; // checks whose animation frame the page rendered
    this.renderedAtStill = 0;
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
  }

  countPresentedFrames() {
    if (typeof this.video.requestVideoFrameCallback !== "function") return;
    const onFrame = () => {
      if (this.stopped) return;
      this.presented += 1;
      this.frameHandle = this.video.requestVideoFrameCallback(onFrame);
    };
    this.frameHandle = this.video.requestVideoFrameCallback(onFrame);
  }

  // Frames the <video> presented; without requestVideoFrameCallback, the element's own count (which
  // starts over with a new srcObject: a change either way counts then).
  shown() {
    if (typeof this.video.requestVideoFrameCallback === "function") return this.presented;
    const quality = typeof this.video.getVideoPlaybackQuality === "function" ? this.video.getVideoPlaybackQuality() : null;
    return quality ? quality.totalVideoFrames : 0;
  }

  // A hidden page or <video> presents nothing, frozen or not, nor does one that has not started
  // playing: no judgement then. Nor before the first frame was shown: a page too busy to paint yet
  // is slow, not frozen (the freeze this is for comes after a renegotiation, mid-call).
  canSee() {
    const video = this.video;
    return (
      document.visibilityState === "visible" &&
      video.isConnected &&
      video.getClientRects().length > 0 &&
      !video.paused &&
      video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA &&
      this.everShown
    );
  }

  async check() {
    if (this.stopped || this.checking) return;
    this.checking = true;
    requestAnimationFrame(() => { this.rendered += 1; });
    try {
      const decoded = await this.framesDecoded();
      const now = performance.now();
      const shown = this.shown();
      // Frames shown since the last check (the element's own count starts over with a new srcObject).
      const progress = this.lastShown === null ? 0 : shown >= this.lastShown ? shown - this.lastShown : shown;
      if (progress > 0) this.everShown = true;
      if (!this.canSee() || progress > 0 || decoded < this.decodedAtStill) {
        // Back once the picture moves again, not on one last frame of the old stream.
        if (this.frozen) this.shownSinceFreeze += progress;
        if (this.frozen && this.shownSinceFreeze >= RECOVERED_FRAMES && this.canSee()) {
          this.frozen = false;
          this.onRecovered();
        }
        this.lastShown = shown;
        this.stillSince = now;
        this.decodedAtStill = decoded;
        this.renderedAtStill = this.rendered;
        return;
      }
      const still =
        now - this.stillSince >= STILL_MS &&
        decoded - this.decodedAtStill >= MIN_DECODED &&
        this.rendered - this.renderedAtStill >= MIN_RENDERED;
      if (still && now >= this.nextAttemptAt && this.attempts < MAX_ATTEMPTS) {
        this.attempts += 1;
        this.frozen = true;
        this.shownSinceFreeze = 0;
        this.nextAttemptAt = now + REMEDY_MS;
        this.onFrozen();
      }
    } catch {
      // getStats fails only once the connection is closed; stop() follows.
    } finally {
      this.checking = false;
    }
  }

  stop() {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.frameHandle !== null && typeof this.video.cancelVideoFrameCallback === "function") {
      this.video.cancelVideoFrameCallback(this.frameHandle);
    }
  }
}
