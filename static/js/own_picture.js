// The visitor's own video as a small picture over the stranger's: dragged anywhere inside the
// call (pointer events), or sent from corner to corner with a button (keyboard, screen reader).

// Corners in reading order, so they mirror in a right-to-left page.
const CORNERS = ["top-end", "bottom-end", "bottom-start", "top-start"];

export class OwnPicture {
  constructor({ picture, area, button }) {
    Object.assign(this, { picture, area, button });
    this.corner = 0;
    this.drag = null;
    picture.addEventListener("pointerdown", (event) => this.grab(event));
    picture.addEventListener("pointermove", (event) => this.move(event));
    picture.addEventListener("pointerup", (event) => this.release(event));
    picture.addEventListener("pointercancel", (event) => this.release(event));
    button.addEventListener("click", () => this.nextCorner());
    // A turned phone or a keyboard that opens changes the area: the picture stays inside it.
    window.addEventListener("resize", () => this.keepInside());
  }

  nextCorner() {
    this.corner = (this.corner + 1) % CORNERS.length;
    this.picture.dataset.corner = CORNERS[this.corner];
    this.picture.classList.remove("moved");
  }

  grab(event) {
    if (event.button !== 0 || event.target.closest("button")) return;
    const box = this.picture.getBoundingClientRect();
    this.drag = { id: event.pointerId, dx: event.clientX - box.left, dy: event.clientY - box.top };
    this.picture.setPointerCapture(event.pointerId);
    this.picture.classList.add("dragging");
  }

  move(event) {
    if (!this.drag || event.pointerId !== this.drag.id) return;
    this.place(event.clientX - this.drag.dx, event.clientY - this.drag.dy);
  }

  release(event) {
    if (!this.drag || event.pointerId !== this.drag.id) return;
    this.drag = null;
    this.picture.classList.remove("dragging");
  }

  // Viewport coordinates of the picture's top left corner, kept inside the area.
  place(left, top) {
    const area = this.area.getBoundingClientRect();
    const box = this.picture.getBoundingClientRect();
    const x = Math.max(0, Math.min(left - area.left, area.width - box.width));
    const y = Math.max(0, Math.min(top - area.top, area.height - box.height));
    this.picture.style.setProperty("--x", `${Math.round(x)}px`);
    this.picture.style.setProperty("--y", `${Math.round(y)}px`);
    this.picture.classList.add("moved");
  }

  keepInside() {
    if (!this.picture.classList.contains("moved")) return;
    const box = this.picture.getBoundingClientRect();
    this.place(box.left, box.top);
  }
}
