// The admin's Live stats page: figures and small bar charts, updated over a staff-only WebSocket
// (polling the JSON if the socket cannot stay open).

import { format as fill, formatNumber, gettext } from "./i18n.js";

const root = document.getElementById("live-stats");
const SVG = "http://www.w3.org/2000/svg";

function format(value, unit) {
  if (value === null || value === undefined) return "–";
  if (unit === "%") return new Intl.NumberFormat(document.documentElement.lang || "en", { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
  if (unit === "s") return fill(gettext("%(seconds)s s"), { seconds: new Intl.NumberFormat(document.documentElement.lang || "en", { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value) });
  return formatNumber(value);
}

function barChart(container, points, label) {
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...points.map((p) => p.value));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const step = width / points.length;
  points.forEach((point, i) => {
    const barHeight = ((height - 20) * point.value) / max;
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("class", "bar");
    rect.setAttribute("x", String(i * step + 1));
    rect.setAttribute("y", String(height - 16 - barHeight));
    rect.setAttribute("width", String(Math.max(1, step - 2)));
    rect.setAttribute("height", String(barHeight));
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${point.label}: ${formatNumber(point.value)}`;
    rect.append(title);
    svg.append(rect);
  });
  for (const [i, text] of [[0, points[0]?.label], [points.length - 1, points.at(-1)?.label]]) {
    if (!text) continue;
    const axis = document.createElementNS(SVG, "text");
    axis.setAttribute("class", "axis");
    axis.setAttribute("x", String(i === 0 ? 0 : width));
    axis.setAttribute("y", String(height - 2));
    axis.setAttribute("text-anchor", i === 0 ? "start" : "end");
    axis.textContent = text;
    svg.append(axis);
  }
  const top = document.createElementNS(SVG, "text");
  top.setAttribute("class", "axis");
  top.setAttribute("x", "0");
  top.setAttribute("y", "10");
  top.textContent = fill(gettext("max %(value)s"), { value: formatNumber(max) });
  svg.append(top);
  container.replaceChildren(svg);
}

const clock = (iso, withDate) =>
  new Date(iso).toLocaleString(document.documentElement.lang || "en", withDate ? { hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" } : { hour: "2-digit", minute: "2-digit" });

function show(stats) {
  const live = stats.live;
  document.getElementById("fig-online").textContent = live ? formatNumber(live.online) : gettext("unavailable");
  document.getElementById("fig-waiting").textContent = live ? formatNumber(live.waiting) : gettext("unavailable");
  document.getElementById("fig-in-calls").textContent = live ? formatNumber(live.in_calls) : gettext("unavailable");
  for (const cell of root.querySelectorAll("td[data-window]")) {
    const group = cell.dataset.group ? stats[cell.dataset.group] : stats.windows;
    cell.textContent = format(group[cell.dataset.window][cell.dataset.key], cell.dataset.unit);
  }
  const charts = stats.charts;
  barChart(document.getElementById("chart-minute"), charts.per_minute.map((p) => ({ label: clock(p.t), value: p.matches })), gettext("Matches per minute"));
  barChart(document.getElementById("chart-hour"), charts.per_hour.map((p) => ({ label: clock(p.t, true), value: p.matches })), gettext("Matches per hour"));
  barChart(document.getElementById("chart-wait"), charts.wait_histogram.map((b) => ({ label: b.label, value: b.count })), gettext("Wait before a match"));
  document.getElementById("live-updated").textContent = fill(gettext("Updated %(time)s"), { time: new Date(stats.generated_at).toLocaleTimeString(document.documentElement.lang || "en") });
}

async function poll() {
  try {
    const response = await fetch(root.dataset.jsonUrl, { credentials: "same-origin" });
    if (response.ok) show(await response.json());
  } catch {
    // The next poll tries again.
  }
}

function listen() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${window.location.host}${root.dataset.wsPath}`);
  let pollTimer = null;
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "stats") show(message.stats);
  });
  socket.addEventListener("close", () => {
    if (pollTimer === null) pollTimer = setInterval(poll, 5000);
    setTimeout(() => { clearInterval(pollTimer); pollTimer = null; listen(); }, 15000);
  });
}

poll();
listen();
