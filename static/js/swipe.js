// A horizontal swipe with one finger, told apart from a vertical scroll and from a pinch. No time
// limit: a slow, deliberate drag sideways means the same as a flick.

const MIN_DISTANCE_PX = 60;
// Mostly sideways: at least twice as far across as up or down.
const MIN_SLOPE = 2;

// Calls `forward()` when one finger swipes `element` towards the start of the reading direction
// (to the left in English, to the right in Arabic), as a page turns to the next one.
export function onSwipeForward(element, forward) {
  let start = null;
  element.addEventListener("touchstart", (event) => {
    // A second finger makes it a pinch (or a zoom); the gesture is void until every finger is lifted.
    if (event.touches.length !== 1 || event.target.closest("button, a, input, progress")) {
      start = null;
      return;
    }
    const touch = event.touches[0];
    start = { id: touch.identifier, x: touch.clientX, y: touch.clientY };
  }, { passive: true });
  element.addEventListener("touchmove", (event) => {
    if (event.touches.length !== 1) start = null;
  }, { passive: true });
  element.addEventListener("touchcancel", () => { start = null; });
  element.addEventListener("touchend", (event) => {
    const began = start;
    start = null;
    if (!began || event.touches.length) return;
    const touch = [...event.changedTouches].find((t) => t.identifier === began.id);
    if (!touch) return;
    const dx = touch.clientX - began.x;
    const dy = touch.clientY - began.y;
    if (Math.abs(dx) < MIN_DISTANCE_PX || Math.abs(dx) < MIN_SLOPE * Math.abs(dy)) return;
    const rtl = getComputedStyle(element).direction === "rtl";
    if (rtl ? dx > 0 : dx < 0) forward();
  });
}
