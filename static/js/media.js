// Camera and microphone: asking for them, explaining failures, switching cameras.

import { gettext } from "./i18n.js";

export const MEDIA_FULL = "full";
export const MEDIA_AUDIO = "audio";
export const MEDIA_NONE = "none";

const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" };

export async function openMedia(mode) {
  if (mode === MEDIA_NONE) return null;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw Object.assign(new Error("no mediaDevices"), { name: "NotSupportedError" });
  }
  return navigator.mediaDevices.getUserMedia({ audio: true, video: mode === MEDIA_FULL ? VIDEO : false });
}

// What to tell the visitor when getUserMedia fails, by the error's name.
export function explainMediaError(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return gettext("Your browser blocked the camera and microphone. Allow them in the address bar's site settings and try again, or carry on with audio only or text chat.");
    case "NotFoundError":
    case "OverconstrainedError":
      return gettext("We could not find a camera or microphone. Plug one in and try again, or carry on with audio only or text chat.");
    case "NotReadableError":
    case "AbortError":
      return gettext("Your camera seems to be in use by another program. Close that program and try again, or carry on with audio only or text chat.");
    case "NotSupportedError":
      return gettext("This browser cannot share a camera here (a secure https:// page is needed). You can still use text chat.");
    default:
      return gettext("The camera and microphone could not be started. Try again, or carry on with audio only or text chat.");
  }
}

export async function hasSeveralCameras() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return false;
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((d) => d.kind === "videoinput").length > 1;
}

// A new video track from the other camera (front <-> back), keeping the current one's enabled state.
export async function otherCamera(currentTrack) {
  const facing = currentTrack.getSettings().facingMode === "environment" ? "user" : "environment";
  const stream = await navigator.mediaDevices.getUserMedia({ video: { ...VIDEO, facingMode: { exact: facing } } });
  const track = stream.getVideoTracks()[0];
  track.enabled = currentTrack.enabled;
  return track;
}
