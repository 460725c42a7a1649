// The profile page: everything it shows comes from the public GraphQL API, as an SPA's would.
// Text is only ever set with textContent, never parsed as markup: names and metadata are data.

import { GraphQLRequestError, LiveClient, query, websocketUrl } from "./graphql.js";
import { KINDS, absoluteTime, detail, formatNumber, icon, ordinal, relativeTime, sentence, subject } from "./events.js";
import { monthlyRows, resultsChart, resultsTable } from "./chart.js";
import { loadInsights } from "./insights.js";

const FEED_PAGE = 20;
const HISTORY_PAGE = 10;
const REFRESH_DELAY_MS = 400;

const STATS = `tournamentsPlayed tournamentsWon tournamentsRunnerUp tournamentsTop4 tournamentsCompleted
  matchesPlayed matchesWon matchesLost totalEarned totalSpent netEarnings winRate tournamentWinRate
  achievementsCount currentTeamsCount lastActivityAt`;
// Typed fields, a fragment per kind of event: what each event recorded, and the objects behind
// it as they are now (the opponent, to link; the tournament, to say when it was renamed).
const EVENT_FIELDS = `__typename id eventType timestamp
  ... on TournamentEvent { tournamentName game teamName tournament { name } }
  ... on TournamentCompletedEvent { placement }
  ... on TournamentPlacementEvent { placement }
  ... on MatchEvent { tournamentName game teamName round forfeit opponentName tournament { name }
    opponent { __typename ... on User { username } } }
  ... on CoinsEvent { amount reason tournamentName tournament { name } }
  ... on AchievementUnlockedEvent { achievementName achievementCode }
  ... on TeamEvent { teamName }`;
const EVENT = `${EVENT_FIELDS} ... on CorrectionEvent { corrects { ${EVENT_FIELDS} } }`;

const PROFILE = `query Profile($username: String!) {
  user(username: $username) { id username profile { displayName activityPublic } stats { ${STATS} } } }`;
const PERIODS = `query Periods($userId: ID!, $from: DateTime) {
  statsByPeriod(period: MONTH, userId: $userId, from: $from) {
    periodStart matchesPlayed matchesWon matchesLost tournamentsWon tournamentsRunnerUp tournamentsTop4 } }`;
const FEED = `query Feed($userId: ID!, $first: Int!, $after: String) {
  activityFeed(userId: $userId, first: $first, after: $after) {
    edges { cursor node { ${EVENT} } } pageInfo { hasNextPage endCursor } } }`;
const HISTORY = `query History($userId: ID!, $first: Int!, $after: String) {
  tournamentHistory(userId: $userId, first: $first, after: $after) {
    edges { cursor node { tournament { id } tournamentName registeredAt registered joined completed placement
      matchesPlayed matchesWon matchesLost coinsEarned } }
    pageInfo { hasNextPage endCursor } } }`;
const LIVE_FEED = `subscription LiveFeed($userId: ID!, $after: String) {
  activityAdded(userId: $userId, after: $after) { cursor node { ${EVENT} } } }`;
const LIVE_STATS = `subscription LiveStats($userId: ID!) { statsUpdated(userId: $userId) { ${STATS} } }`;

const $ = (id) => document.getElementById(id);
const root = $("profile");
const endpoint = root.dataset.graphql;
const username = root.dataset.username;

const feed = { ids: new Set(), endCursor: null, newest: null, hasNext: false, started: false, loading: false };
const history = { endCursor: null, hasNext: false, loading: false };
let userId = null;
let live = null;
let activityPrivate = false;
let lastStats = null;
const timers = {};

function text(tag, className, value) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = value;
  return node;
}

function show(id, visible = true) {
  $(id).hidden = !visible;
}

function setPageStatus(message) {
  $("page-status").textContent = message;
  show("page-status", Boolean(message));
}

function debounce(name, fn) {
  clearTimeout(timers[name]);
  timers[name] = setTimeout(fn, REFRESH_DELAY_MS);
}

// ---- identity and stats ----------------------------------------------------------------------

function renderIdentity(user) {
  const name = user.profile.displayName || user.username;
  $("player-name").textContent = name;
  $("player-handle").textContent = user.username;
  document.title = `${name} (@${user.username}) · DeltaCrown`;
  const avatar = $("avatar");
  avatar.textContent = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0].toUpperCase())
    .join("");
  let hash = 0;
  for (const char of user.username) hash = (hash * 31 + char.codePointAt(0)) % 360;
  avatar.style.setProperty("--avatar-hue", String(hash));
  const badge = $("visibility-badge");
  badge.textContent = user.profile.activityPublic ? "Public profile" : "Private activity";
  badge.className = `badge ${user.profile.activityPublic ? "badge-public" : "badge-private"}`;
  badge.hidden = false;
}

const percent = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });

function setStat(name, value) {
  for (const node of root.querySelectorAll(`[data-stat="${name}"]`)) node.textContent = value;
}

function renderStats(stats) {
  lastStats = JSON.stringify(stats);
  const placed = stats.tournamentsWon + stats.tournamentsRunnerUp + stats.tournamentsTop4;
  setStat("winRate", percent.format(stats.winRate));
  setStat("winRateDetail", `${formatNumber(stats.matchesWon)} won · ${formatNumber(stats.matchesLost)} lost`);
  setStat("tournamentsWon", formatNumber(stats.tournamentsWon));
  setStat("tournamentsWonDetail", `of ${formatNumber(stats.tournamentsPlayed)} played`);
  setStat("placed", formatNumber(placed));
  const finishes = [
    ["1st", stats.tournamentsWon],
    ["2nd", stats.tournamentsRunnerUp],
    ["3rd–4th", stats.tournamentsTop4],
  ].filter(([, count]) => count > 0);
  setStat(
    "placedDetail",
    finishes.length ? finishes.map(([place, count]) => `${place} ×${count}`).join(" · ") : "no top-4 finish yet",
  );
  setStat("matchesPlayed", formatNumber(stats.matchesPlayed));
  setStat("matchesDetail", `${formatNumber(stats.matchesWon)}–${formatNumber(stats.matchesLost)} W–L`);
  setStat("totalEarned", formatNumber(stats.totalEarned));
  const net = stats.netEarnings;
  setStat("earningsDetail", `DeltaCoins · net ${net > 0 ? "+" : ""}${formatNumber(net)}`);
  const extra = [
    `${formatNumber(stats.achievementsCount)} achievement${stats.achievementsCount === 1 ? "" : "s"}`,
    `${formatNumber(stats.currentTeamsCount)} team${stats.currentTeamsCount === 1 ? "" : "s"}`,
  ];
  if (stats.lastActivityAt) extra.push(`active ${relativeTime(new Date(stats.lastActivityAt))}`);
  $("player-extra").textContent = ` · ${extra.join(" · ")}`;
}

// ---- chart -----------------------------------------------------------------------------------

function monthsAgo(count) {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - count, 1));
  return start.toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

async function loadChart() {
  const chart = $("chart");
  try {
    const data = await query(endpoint, PERIODS, { userId, from: monthsAgo(11) });
    const rows = monthlyRows(data.statsByPeriod);
    chart.replaceChildren(resultsChart(rows), resultsTable(rows));
    chart.dataset.state = "ready";
  } catch (error) {
    chart.replaceChildren(text("p", "muted", `Could not load the chart (${error.message}).`));
    chart.dataset.state = "error";
  }
}

// ---- activity: private notice ----------------------------------------------------------------

function showPrivate() {
  if (activityPrivate) return;
  activityPrivate = true;
  root.dataset.activity = "private";
  show("activity-area", false);
  show("private-notice", true);
}

function isForbidden(error) {
  return error instanceof GraphQLRequestError && error.code === "FORBIDDEN";
}

// A page of the feed or the history (the connection at `field`), or null when it could not be
// read: FORBIDDEN means the profile turned private, shown as such; any other error goes to
// `failed`. Either way the list is no longer loading.
async function readPage(list, document, variables, field, failed) {
  try {
    return (await query(endpoint, document, variables))[field];
  } catch (error) {
    list.loading = false;
    if (isForbidden(error)) showPrivate();
    else failed(error);
    return null;
  }
}

// ---- activity feed ---------------------------------------------------------------------------

function timeElement(iso) {
  const date = new Date(iso);
  const node = text("time", "event-time", relativeTime(date));
  node.dateTime = iso;
  node.title = absoluteTime(date);
  node.dataset.relative = "";
  return node;
}

/** The sentence, its opponent's name linking to that player's profile while they exist. */
function sentenceElement(event) {
  const node = text("p", "event-text", "");
  const words = sentence(event);
  const about = subject(event);
  const player = about?.opponent?.__typename === "User" ? about.opponent : null;
  const at = player && about.opponentName ? words.indexOf(about.opponentName) : -1;
  if (at < 0) {
    node.textContent = words;
    return node;
  }
  const link = text("a", "event-link", about.opponentName);
  link.href = `/u/${encodeURIComponent(player.username)}/`;
  node.append(words.slice(0, at), link, words.slice(at + about.opponentName.length));
  return node;
}

function eventItem(event, { fresh = false } = {}) {
  const kind = KINDS[event.eventType] ?? KINDS.TOURNAMENT_REGISTERED;
  const item = document.createElement("li");
  item.className = `event tone-${kind.tone}`;
  if (event.eventType === "REVERSAL") item.classList.add("event-correction");
  if (fresh) item.classList.add("event-new");
  item.dataset.eventId = event.id;
  item.dataset.eventType = event.eventType;
  const badge = document.createElement("span");
  badge.className = "event-icon";
  badge.append(icon(kind.icon));
  const body = document.createElement("div");
  body.className = "event-body";
  body.append(sentenceElement(event));
  const context = detail(event);
  const meta = document.createElement("p");
  meta.className = "event-meta";
  meta.append(timeElement(event.timestamp));
  if (context) meta.append(text("span", "event-context", context));
  body.append(meta);
  item.append(badge, body);
  return item;
}

function updateFeedState() {
  const list = $("feed");
  list.dataset.count = String(feed.ids.size);
  list.dataset.state = feed.ids.size ? "ready" : "empty";
  show("feed-empty", feed.started && feed.ids.size === 0);
  const status = $("feed-status");
  if (feed.loading) status.textContent = feed.started ? "Loading older events…" : "Loading activity…";
  else if (feed.ids.size && !feed.hasNext) status.textContent = "That's everything: the first event is above.";
  else status.textContent = "";
  status.hidden = !status.textContent;
}

const observer = new IntersectionObserver(
  (entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadFeedPage();
  },
  { rootMargin: "0px 0px 300px 0px" },
);

async function loadFeedPage() {
  if (feed.loading || activityPrivate || (feed.started && !feed.hasNext)) return;
  feed.loading = true;
  updateFeedState();
  const variables = { userId, first: FEED_PAGE, after: feed.endCursor };
  const connection = await readPage(feed, FEED, variables, "activityFeed", (error) => {
    updateFeedState();
    const status = $("feed-status");
    status.textContent = `Could not load activity (${error.message}). `;
    const retry = text("button", "more", "Try again");
    retry.type = "button";
    retry.addEventListener("click", () => loadFeedPage());
    status.append(retry);
    status.hidden = false;
  });
  if (!connection) return;
  const list = $("feed");
  for (const edge of connection.edges) {
    if (feed.ids.has(edge.node.id)) continue;
    feed.ids.add(edge.node.id);
    list.append(eventItem(edge.node));
  }
  if (!feed.started) {
    feed.started = true;
    feed.newest = connection.edges[0]?.cursor ?? null;
    startLiveFeed();
  }
  feed.endCursor = connection.pageInfo.endCursor ?? feed.endCursor;
  feed.hasNext = connection.pageInfo.hasNextPage;
  feed.loading = false;
  updateFeedState();
  // Re-observing fires the observer at once if the sentinel is still in view (short pages).
  const sentinel = $("feed-sentinel");
  observer.unobserve(sentinel);
  if (feed.hasNext) observer.observe(sentinel);
}

function addLiveEdge(edge) {
  feed.newest = edge.cursor;
  if (feed.ids.has(edge.node.id)) return;
  feed.ids.add(edge.node.id);
  $("feed").prepend(eventItem(edge.node, { fresh: true }));
  $("live-announcer").append(text("p", "", `New: ${sentence(edge.node)}`));
  updateFeedState();
  if (/^(TOURNAMENT_|MATCH_|COINS_|REVERSAL)/.test(edge.node.eventType)) {
    debounce("history", () => reloadHistory());
  }
}

function startLiveFeed() {
  if (activityPrivate) return;
  live.subscribe({
    query: LIVE_FEED,
    variables: () => ({ userId, after: feed.newest }),
    next: (data) => addLiveEdge(data.activityAdded),
    error: (error) => {
      if (isForbidden(error)) showPrivate();
      else $("live-status").dataset.live = "error";
    },
  });
}

// ---- tournament history ----------------------------------------------------------------------

const dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" });

function historyItem(node) {
  const item = document.createElement("li");
  item.className = "history-item";
  item.dataset.tournamentId = node.tournament?.id ?? "";
  const place = node.placement;
  const badge = text("span", `place ${place ? `place-${place}` : "place-none"}`, place ? ordinal(place) : "–");
  badge.setAttribute("aria-hidden", "true");
  const body = document.createElement("div");
  body.className = "history-body";
  body.append(text("h3", "history-name", node.tournamentName));
  const outcome = place
    ? `${ordinal(place)} place`
    : node.completed
      ? "Completed"
      : node.joined
        ? "Checked in"
        : "Registered";
  const parts = [outcome];
  if (node.matchesPlayed) {
    parts.push(`${node.matchesWon}–${node.matchesLost} in ${node.matchesPlayed} match${node.matchesPlayed === 1 ? "" : "es"}`);
  }
  if (node.coinsEarned) parts.push(`+${formatNumber(node.coinsEarned)} DeltaCoins`);
  const meta = text("p", "history-meta", parts.join(" · "));
  meta.dataset.outcome = outcome;
  const when = text("time", "history-date", dateFormat.format(new Date(node.registeredAt)));
  when.dateTime = node.registeredAt;
  body.append(meta);
  item.append(badge, body, when);
  return item;
}

async function loadHistoryPage({ reset = false } = {}) {
  if (history.loading || activityPrivate) return;
  history.loading = true;
  const status = $("history-status");
  status.textContent = "Loading tournaments…";
  status.hidden = false;
  show("history-more", false);
  const variables = { userId, first: HISTORY_PAGE, after: reset ? null : history.endCursor };
  const connection = await readPage(history, HISTORY, variables, "tournamentHistory", (error) => {
    status.textContent = `Could not load tournaments (${error.message}).`;
  });
  if (!connection) return;
  const list = $("history");
  if (reset) list.replaceChildren();
  for (const edge of connection.edges) list.append(historyItem(edge.node));
  history.endCursor = connection.pageInfo.endCursor ?? history.endCursor;
  history.hasNext = connection.pageInfo.hasNextPage;
  history.loading = false;
  list.dataset.state = list.children.length ? "ready" : "empty";
  list.dataset.count = String(list.children.length);
  show("history-empty", list.children.length === 0);
  status.textContent = "";
  status.hidden = true;
  show("history-more", history.hasNext);
}

function reloadHistory() {
  history.endCursor = null;
  loadHistoryPage({ reset: true });
}

// ---- live connection and the page --------------------------------------------------------------

const LIVE_LABELS = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

function setLiveStatus(status) {
  const node = $("live-status");
  node.hidden = false;
  node.dataset.live = status;
  node.textContent = LIVE_LABELS[status] ?? status;
  node.title = status === "live" ? "New events appear as they happen" : "";
}

function showError(title, message) {
  root.dataset.state = "error";
  root.setAttribute("aria-busy", "false");
  setPageStatus("");
  $("error-heading").textContent = title;
  $("error-message").textContent = message;
  show("error-state", true);
  show("stats-section", false);
  show("insights-section", false);
  show("chart-section", false);
  show("activity-area", false);
}

async function main() {
  let user;
  try {
    const data = await query(endpoint, PROFILE, { username });
    user = data.user;
  } catch (error) {
    showError("Could not load this profile", `The server answered: ${error.message}. Try again in a moment.`);
    root.dataset.reason = "failed";
    return;
  }
  if (!user) {
    showError("Player not found", `There is no player called “${username}”.`);
    root.dataset.reason = "not-found";
    return;
  }
  userId = user.id;
  renderIdentity(user);
  renderStats(user.stats);
  show("stats-section", true);
  show("chart-section", true);
  show("activity-area", true);
  setPageStatus("");
  root.dataset.state = "ready";
  root.setAttribute("aria-busy", "false");

  live = new LiveClient(websocketUrl(endpoint), { onStatus: setLiveStatus });
  live.subscribe({
    query: LIVE_STATS,
    variables: () => ({ userId }),
    next: (data) => {
      const stats = data.statsUpdated;
      if (JSON.stringify(stats) === lastStats) return;
      renderStats(stats);
      debounce("chart", () => loadChart());
    },
  });
  $("history-more").addEventListener("click", () => loadHistoryPage());
  await Promise.all([loadChart(), loadFeedPage(), loadHistoryPage(), loadInsights(endpoint, username)]);
}

setInterval(() => {
  for (const node of document.querySelectorAll("time[data-relative]")) {
    node.textContent = relativeTime(new Date(node.dateTime));
  }
}, 30000);
window.addEventListener("pagehide", () => live?.stop());

main();
