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
  const update = () => {
    root.style.setProperty("--vv-height", `${Math.round(viewport.height)}px`);
    root.style.setProperty("--vv-top", `${Math.round(viewport.offsetTop)}px`);
    root.dataset.keyboard = viewport.height < window.innerHeight * KEYBOARD_SHARE ? "open" : "closed";
  };
  viewport.addEventListener("resize", update);
  viewport.addEventListener("scroll", update);
  update();
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
