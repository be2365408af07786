// The moderators' desk: reveal one blurred snapshot at a time, review and decide from the keyboard,
// and keep the queue's counts current. Without this script the page still works: "Reveal" opens the
// case page with its snapshot, and every decision is a plain form.

const cases = () => [...document.querySelectorAll("section.moderation-case")];

function currentCase() {
  return document.activeElement?.closest?.("section.moderation-case") ?? null;
}

function focusCase(section) {
  if (!section) return;
  section.focus();
  section.scrollIntoView({ block: "nearest" });
}

function move(step) {
  const all = cases();
  if (all.length === 0) return;
  const index = all.indexOf(currentCase());
  const next = index === -1 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
  focusCase(all[next]);
}

// Only this case's snapshot: loading the full image is what the server records as a reveal.
function reveal(section) {
  const image = section?.querySelector("img.snapshot[data-full]");
  if (!image) return;
  const figure = image.closest("figure");
  image.addEventListener(
    "load",
    () => {
      figure.classList.add("revealed");
      window.moderationDesk.revealed += 1;
    },
    { once: true },
  );
  image.alt = image.dataset.revealedAlt;
  image.src = image.dataset.full;
  image.removeAttribute("data-full");
  if (figure.contains(document.activeElement)) focusCase(section);
}

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const key = event.key;
  if (key === "j" || key === "ArrowDown") {
    event.preventDefault();
    move(1);
  } else if (key === "k" || key === "ArrowUp") {
    event.preventDefault();
    move(-1);
  } else if (key === "v") {
    reveal(currentCase());
  } else if (key === "u") {
    document.querySelector('#desk-undo button[data-key="u"]')?.click();
  } else {
    // A decision needs a case in focus: a stray key with nothing chosen decides nothing.
    currentCase()?.querySelector(`button[data-key="${CSS.escape(key)}"]`)?.click();
  }
}

async function refreshCounts(root) {
  try {
    const response = await fetch(root.dataset.countsUrl, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return;
    const counts = await response.json();
    document.getElementById("count-open").textContent = String(counts.open);
    document.getElementById("count-oldest").textContent = counts.oldest || "—";
    document.getElementById("count-escalated").textContent = String(counts.escalated);
    window.moderationDesk.countsUpdated += 1;
  } catch {
    // A missed refresh is retried on the next tick; the page keeps the last figures.
  }
}

window.moderationDesk = { revealed: 0, countsUpdated: 0 };
document.addEventListener("keydown", onKey);
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("[data-reveal]");
  if (!link) return;
  event.preventDefault();
  reveal(link.closest("section.moderation-case"));
});
const root = document.querySelector("[data-counts-url]");
if (root) setInterval(() => refreshCounts(root), 10000);
