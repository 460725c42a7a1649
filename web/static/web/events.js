// How an event reads: a sentence, a detail line, an icon and a colour per event type.
// Everything here returns plain strings or DOM nodes built with textContent: data never
// becomes markup.

const SVG = "http://www.w3.org/2000/svg";
const number = new Intl.NumberFormat("en");

export function formatNumber(value) {
  return number.format(value);
}

export function ordinal(n) {
  const suffix = { 1: "st", 2: "nd", 3: "rd" }[n % 100 >= 11 && n % 100 <= 13 ? 0 : n % 10];
  return `${n}${suffix ?? "th"}`;
}

const REASONS = {
  winner: "prize",
  runner_up: "prize",
  top4: "prize",
  prize: "prize",
  entry_fee: "entry fee",
  refund: "refund",
  purchase: "purchase",
};

function reasonText(reason) {
  if (!reason) return "";
  return REASONS[reason] ?? String(reason).replaceAll("_", " ");
}

function tournament(event) {
  return event.tournamentName || "a tournament";
}

function opponent(event) {
  return event.opponentName || "an opponent";
}

function roundText(event) {
  return Number.isInteger(event.round) ? `, round ${event.round}` : "";
}

function coins(amount) {
  return `${formatNumber(amount)} DeltaCoin${amount === 1 ? "" : "s"}`;
}

function withReason(text, event) {
  const reason = reasonText(event.reason);
  return reason ? `${text} (${reason})` : text;
}

function team(event) {
  return event.teamName || "a team";
}

/** One sentence per concrete event type, from its typed fields: the names it recorded. */
const SENTENCES = {
  TournamentRegisteredEvent: (e) => `Registered for ${tournament(e)}`,
  TournamentJoinedEvent: (e) => `Checked in to ${tournament(e)}`,
  TournamentCompletedEvent: (e) => `Completed ${tournament(e)}`,
  TournamentWonEvent: (e) => `Won ${tournament(e)} — 1st place`,
  TournamentRunnerUpEvent: (e) => `Runner-up in ${tournament(e)} — 2nd place`,
  TournamentTop4Event: (e) =>
    `Placed in ${tournament(e)} — ${Number.isInteger(e.placement) ? ordinal(e.placement) : "top 4"} place`,
  MatchPlayedEvent: (e) =>
    e.forfeit
      ? `Match against ${opponent(e)} ended by forfeit${roundText(e)}`
      : `Played ${opponent(e)} in ${tournament(e)}${roundText(e)}`,
  MatchWonEvent: (e) => `Beat ${opponent(e)} in ${tournament(e)}${roundText(e)}`,
  MatchLostEvent: (e) => `Lost to ${opponent(e)} in ${tournament(e)}${roundText(e)}`,
  CoinsEarnedEvent: (e) => withReason(`Earned ${coins(e.amount)}`, e),
  CoinsSpentEvent: (e) => withReason(`Spent ${coins(e.amount)}`, e),
  AchievementUnlockedEvent: (e) => `Unlocked the achievement “${e.achievementName || e.achievementCode}”`,
  TeamCreatedEvent: (e) => `Created team ${team(e)}`,
  TeamJoinedEvent: (e) => `Joined team ${team(e)}`,
  TeamLeftEvent: (e) => `Left team ${team(e)}`,
};

const COIN_TYPES = new Set(["CoinsEarnedEvent", "CoinsSpentEvent"]);
const TEAM_TYPES = new Set(["TeamCreatedEvent", "TeamJoinedEvent", "TeamLeftEvent"]);

/** What a sentence and its detail line are about: a correction reads as the event it cancels. */
export function subject(event) {
  return event.__typename === "CorrectionEvent" ? event.corrects : event;
}

/** The sentence for an event; a correction reads as a correction of the event it cancels. */
export function sentence(event) {
  if (event.__typename === "CorrectionEvent") {
    const cancelled = event.corrects && SENTENCES[event.corrects.__typename];
    if (!cancelled) return "Correction: an earlier event was withdrawn";
    return `Correction: “${cancelled(event.corrects)}” no longer stands`;
  }
  const make = SENTENCES[event.__typename];
  return make ? make(event) : event.eventType.toLowerCase().replaceAll("_", " ");
}

/** A quieter second line: where it happened (team and tournament), and the tournament's name
 * now when it was renamed since (the sentence keeps the name it had then). */
export function detail(event) {
  const about = subject(event);
  if (!about) return "";
  const type = about.__typename;
  const parts = [];
  if (COIN_TYPES.has(type) && about.tournamentName) parts.push(about.tournamentName);
  if (about.teamName && !TEAM_TYPES.has(type)) parts.push(`with ${about.teamName}`);
  if (about.game && !COIN_TYPES.has(type)) parts.push(about.game);
  const now = about.tournament?.name;
  if (now && about.tournamentName && now !== about.tournamentName) parts.push(`now “${now}”`);
  return parts.join(" · ");
}

/** Icon and colour (CSS tone) of each event type, and a short label for screen readers. */
export const KINDS = {
  TOURNAMENT_REGISTERED: { icon: "flag", tone: "blue", label: "Registration" },
  TOURNAMENT_JOINED: { icon: "check", tone: "blue", label: "Check-in" },
  TOURNAMENT_COMPLETED: { icon: "flag", tone: "slate", label: "Tournament completed" },
  TOURNAMENT_WON: { icon: "trophy", tone: "gold", label: "Tournament won" },
  TOURNAMENT_RUNNER_UP: { icon: "medal", tone: "silver", label: "Runner-up" },
  TOURNAMENT_TOP4: { icon: "medal", tone: "bronze", label: "Top 4" },
  MATCH_PLAYED: { icon: "swords", tone: "slate", label: "Match played" },
  MATCH_WON: { icon: "win", tone: "green", label: "Match won" },
  MATCH_LOST: { icon: "loss", tone: "red", label: "Match lost" },
  COINS_EARNED: { icon: "coin", tone: "teal", label: "Coins earned" },
  COINS_SPENT: { icon: "coinOut", tone: "orange", label: "Coins spent" },
  ACHIEVEMENT_UNLOCKED: { icon: "star", tone: "purple", label: "Achievement" },
  TEAM_CREATED: { icon: "team", tone: "cyan", label: "Team created" },
  TEAM_JOINED: { icon: "team", tone: "cyan", label: "Team joined" },
  TEAM_LEFT: { icon: "leave", tone: "slate", label: "Team left" },
  REVERSAL: { icon: "undo", tone: "muted", label: "Correction" },
};

const ICONS = {
  trophy: [
    ["path", { d: "M8 4h8v5a4 4 0 0 1-8 0z" }],
    ["path", { d: "M8 6H5.5a2.5 2.5 0 0 0 2.6 4M16 6h2.5a2.5 2.5 0 0 1-2.6 4" }],
    ["path", { d: "M12 13v4M9 20h6M10 17h4v3h-4z" }],
  ],
  medal: [
    ["path", { d: "M8.5 3l3.5 7 3.5-7" }],
    ["circle", { cx: 12, cy: 15, r: 5 }],
  ],
  flag: [["path", { d: "M6 21V4M6 4h11l-2.5 4 2.5 4H6" }]],
  check: [
    ["circle", { cx: 12, cy: 12, r: 8.5 }],
    ["path", { d: "M8.5 12.5l2.5 2.5 4.5-5.5" }],
  ],
  swords: [["path", { d: "M5 5l9 9M19 5l-9 9M12.5 15.5l3 3M11.5 15.5l-3 3M16 20l4-4M8 20l-4-4" }]],
  win: [["path", { d: "M5 12.5l4.5 4.5L19 7.5" }]],
  loss: [["path", { d: "M7 7l10 10M17 7L7 17" }]],
  coin: [
    ["circle", { cx: 12, cy: 12, r: 8.5 }],
    ["path", { d: "M12 8v8M8 12h8" }],
  ],
  coinOut: [
    ["circle", { cx: 12, cy: 12, r: 8.5 }],
    ["path", { d: "M8 12h8" }],
  ],
  star: [["path", { d: "M12 3.5l2.6 5.4 5.9.8-4.3 4.1 1 5.8-5.2-2.8-5.2 2.8 1-5.8-4.3-4.1 5.9-.8z" }]],
  team: [
    ["circle", { cx: 9, cy: 8.5, r: 3 }],
    ["circle", { cx: 16.5, cy: 9.5, r: 2.3 }],
    ["path", { d: "M3.5 19a5.5 5.5 0 0 1 11 0M15 14.2a4.5 4.5 0 0 1 5.5 4.8" }],
  ],
  leave: [["path", { d: "M13 4h6v16h-6M10 8l-4 4 4 4M6 12h10" }]],
  undo: [["path", { d: "M9 6L4.5 10.5 9 15M4.5 10.5H15a4.5 4.5 0 0 1 0 9h-3" }]],
};

/** An inline SVG icon (decorative: the sentence says what happened). */
export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("icon");
  for (const [tag, attributes] of ICONS[name] ?? ICONS.flag) {
    const shape = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) shape.setAttribute(key, String(value));
    svg.append(shape);
  }
  return svg;
}

const relativeFormat = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 days ago", "yesterday", "just now" (relative to `now`, a Date). */
export function relativeTime(date, now = new Date()) {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return relativeFormat.format(Math.round(seconds / 60), "minute");
}

const absoluteFormat = new Intl.DateTimeFormat("en", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "UTC",
});

export function absoluteTime(date) {
  return `${absoluteFormat.format(date)} UTC`;
}
