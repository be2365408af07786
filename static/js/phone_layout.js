// The call on a phone: the stranger's video fills the screen, and what sits over it (chat, message
// box, controls) stays above the on-screen keyboard. Desktop pages get the same wiring; the CSS
// decides what it looks like.

import { OwnPicture } from "./own_picture.js";
import { onSwipeForward } from "./swipe.js";

// Smaller than this share of the window, the visible part is what an on-screen keyboard left.
const KEYBOARD_SHARE = 0.8;

// The visible part of the page (the visual viewport) as CSS variables: the call is laid out in it,
// so the message box sits right above the keyboard and nothing hides behind it.
function followVisualViewport() {
  const viewport = window.visualViewport;
  if (!viewport) return;
  const root = document.documentElement;
  let covered = false;
  const update = () => {
    // Reads first, and no write while the whole window is visible (the CSS falls back to 100dvh):
    // a page that just loaded pays no style recalculation for it.
    const height = Math.round(viewport.height);
    const top = Math.round(viewport.offsetTop);
    const keyboard = height < window.innerHeight * KEYBOARD_SHARE;
    if (!keyboard && top === 0) {
      if (!covered) return;
      covered = false;
      root.style.removeProperty("--vv-height");
      root.style.removeProperty("--vv-top");
      delete root.dataset.keyboard;
      return;
    }
    covered = true;
    root.style.setProperty("--vv-height", `${height}px`);
    root.style.setProperty("--vv-top", `${top}px`);
    if (keyboard) root.dataset.keyboard = "open";
    else delete root.dataset.keyboard;
  };
  // Not measured at load: reading the viewport's size forces a layout, and no keyboard is open yet.
  viewport.addEventListener("resize", update);
  viewport.addEventListener("scroll", update);
}

export function setUpPhoneLayout({ root, remote, picture, pictureButton, optionsButton, options, onNext }) {
  followVisualViewport();
  onSwipeForward(remote, onNext);
  new OwnPicture({ picture, area: picture.parentElement, button: pictureButton });
  optionsButton.addEventListener("click", () => {
    const open = optionsButton.getAttribute("aria-expanded") !== "true";
    optionsButton.setAttribute("aria-expanded", String(open));
    root.dataset.options = open ? "open" : "closed";
    if (open) options.querySelector("input").focus();
  });
}
