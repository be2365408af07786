// The rules gate: before the camera is asked for, the visitor confirms they are 18 or older
// and accepts the rules (docs/protocol.md, "Admission"). The acceptance, the rules version and
// the date, stays in this browser's storage; the server only checks the version a join names.

const STORAGE_KEY = "alienmeet.rules";

function readAcceptance() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY));
    return saved && typeof saved.version === "string" ? saved : null;
  } catch {
    return null; // storage disabled or garbled: ask again
  }
}

function saveAcceptance(acceptance) {
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(acceptance));
  } catch {
    // Storage disabled: the acceptance lasts as long as the page.
  }
}

export class RulesGate {
  constructor(dialog) {
    this.dialog = dialog;
    this.form = dialog.querySelector("form");
    this.confirm = dialog.querySelector("input[type=checkbox]");
    this.heading = dialog.querySelector("h2");
    this.version = dialog.dataset.version || "";
    this.acceptance = readAcceptance();
    this.waiting = [];
    this.returnFocus = null;
    this.form.addEventListener("submit", (event) => {
      // The browser's own validation keeps the form from submitting while the box is unchecked.
      event.preventDefault();
      this.accept();
    });
    dialog.addEventListener("close", () => this.settle());
  }

  // The version this browser accepted (null if none): what a join names.
  get acceptedVersion() {
    return this.acceptance ? this.acceptance.version : null;
  }

  get accepted() {
    return Boolean(this.version) && this.acceptedVersion === this.version;
  }

  // The server's hello (or a rules_required refusal) names the current version.
  useVersion(version) {
    if (typeof version === "string" && version) this.version = version;
  }

  // Resolves true once the current rules are accepted, false if the visitor declines for now.
  ask() {
    if (this.accepted) return Promise.resolve(true);
    const answer = new Promise((resolve) => this.waiting.push(resolve));
    if (!this.dialog.open) {
      this.returnFocus = document.activeElement;
      this.form.reset();
      this.dialog.showModal();
      // Start reading from the top: the heading names the dialog, the rules follow.
      this.heading.focus();
    }
    return answer;
  }

  accept() {
    if (!this.confirm.checked) return;
    this.acceptance = { version: this.version, acceptedAt: new Date().toISOString() };
    saveAcceptance(this.acceptance);
    this.dialog.close("accept");
  }

  settle() {
    const accepted = this.accepted;
    for (const resolve of this.waiting.splice(0)) resolve(accepted);
    if (this.returnFocus && document.contains(this.returnFocus)) this.returnFocus.focus();
    this.returnFocus = null;
  }
}
