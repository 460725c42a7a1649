// Results per month as a hand-drawn SVG (no library): matches won and lost as stacked bars,
// tournaments won and placed as medals above them; a table carries the same numbers for
// screen readers (and for anyone who prefers numbers).

const SVG = "http://www.w3.org/2000/svg";
const MONTHS_SHOWN = 12;
const MIN_MONTHS = 6;

function el(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function monthKey(date) {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
}

function addMonths(date, count) {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + count, 1));
}

const monthLabel = new Intl.DateTimeFormat("en", { month: "short", timeZone: "UTC" });
const monthLong = new Intl.DateTimeFormat("en", { month: "long", year: "numeric", timeZone: "UTC" });

/** One row per month, oldest first, gaps filled with zeros; at most the last 12 months. */
export function monthlyRows(periods, now = new Date()) {
  const byMonth = new Map();
  for (const period of periods) byMonth.set(monthKey(new Date(period.periodStart)), period);
  const current = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const starts = periods.map((p) => new Date(p.periodStart)).sort((a, b) => a - b);
  let last = current;
  if (starts.length && starts[starts.length - 1] > last) last = starts[starts.length - 1];
  let first = starts.length ? starts[0] : last;
  const earliest = addMonths(last, -(MONTHS_SHOWN - 1));
  const latestFirst = addMonths(last, -(MIN_MONTHS - 1));
  if (first < earliest) first = earliest;
  if (first > latestFirst) first = latestFirst;
  const rows = [];
  for (let month = first; month <= last; month = addMonths(month, 1)) {
    const p = byMonth.get(monthKey(month)) ?? {};
    rows.push({
      month,
      won: p.matchesWon ?? 0,
      lost: p.matchesLost ?? 0,
      played: p.matchesPlayed ?? 0,
      tournamentsWon: p.tournamentsWon ?? 0,
      placed: (p.tournamentsRunnerUp ?? 0) + (p.tournamentsTop4 ?? 0),
    });
  }
  return rows;
}

function describe(row) {
  const parts = [`${row.won} won`, `${row.lost} lost`];
  if (row.tournamentsWon) parts.push(`${row.tournamentsWon} tournament${row.tournamentsWon > 1 ? "s" : ""} won`);
  if (row.placed) parts.push(`placed ${row.placed}×`);
  return `${monthLong.format(row.month)}: ${parts.join(", ")}`;
}

/** The SVG chart of `rows` (from monthlyRows). */
export function resultsChart(rows) {
  const width = 1000;
  const height = 230;
  const pad = { top: 34, right: 12, bottom: 28, left: 34 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const peak = Math.max(4, ...rows.map((r) => r.won + r.lost));
  const step = peak <= 5 ? 1 : Math.ceil(peak / 4);
  const top = Math.ceil(peak / step) * step;
  const y = (value) => pad.top + plotH - (value / top) * plotH;

  const total = rows.reduce((sum, r) => sum + r.won + r.lost + r.tournamentsWon + r.placed, 0);
  const svg = el("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": "chart-title",
    class: "chart-svg",
  });
  svg.append(
    el(
      "title",
      { id: "chart-title" },
      total
        ? `Results per month: ${rows.filter((r) => r.won + r.lost + r.tournamentsWon + r.placed).map(describe).join("; ")}`
        : "Results per month: no results yet",
    ),
  );

  for (let tick = 0; tick <= top; tick += step) {
    svg.append(el("line", { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: "grid" }));
    svg.append(el("text", { x: pad.left - 8, y: y(tick) + 4, class: "axis", "text-anchor": "end" }, String(tick)));
  }

  const slot = plotW / rows.length;
  const barW = Math.min(40, slot * 0.5);
  rows.forEach((row, index) => {
    const cx = pad.left + slot * index + slot / 2;
    const group = el("g", { class: "month" });
    group.append(el("title", {}, describe(row)));
    const wonTop = y(row.won);
    if (row.won) {
      group.append(el("rect", { x: cx - barW / 2, y: wonTop, width: barW, height: y(0) - wonTop, rx: 3, class: "bar-won" }));
    }
    if (row.lost) {
      const lostTop = y(row.won + row.lost);
      group.append(el("rect", { x: cx - barW / 2, y: lostTop, width: barW, height: wonTop - lostTop, rx: 3, class: "bar-lost" }));
    }
    const medals = [
      ...Array(Math.min(row.tournamentsWon, 3)).fill("medal-gold"),
      ...Array(Math.min(row.placed, 3)).fill("medal-silver"),
    ];
    let medalY = y(row.won + row.lost) - 10;
    for (const kind of medals) {
      group.append(el("circle", { cx, cy: medalY, r: 5.5, class: kind }));
      medalY -= 13;
    }
    group.append(el("text", { x: cx, y: height - 8, class: "axis", "text-anchor": "middle" }, monthLabel.format(row.month)));
    svg.append(group);
  });
  if (!total) {
    svg.append(el("text", { x: pad.left + plotW / 2, y: pad.top + plotH / 2, class: "chart-empty", "text-anchor": "middle" }, "No results yet"));
  }
  return svg;
}

/** The same numbers as a table (visually hidden; read by screen readers and by tests). */
export function resultsTable(rows) {
  const table = document.createElement("table");
  table.className = "sr-only";
  table.id = "chart-table";
  const caption = document.createElement("caption");
  caption.textContent = "Results per month";
  table.append(caption);
  const head = table.createTHead().insertRow();
  for (const label of ["Month", "Matches won", "Matches lost", "Tournaments won", "Placed"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = label;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    tr.dataset.month = monthKey(row.month);
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = monthLong.format(row.month);
    tr.append(th);
    for (const value of [row.won, row.lost, row.tournamentsWon, row.placed]) {
      tr.insertCell().textContent = String(value);
    }
  }
  return table;
}
