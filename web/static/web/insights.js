// Per-game cards, win streaks and the recent-form row: read from the public GraphQL API.
// Text is only ever set with textContent: game and tournament names are data.

import { GraphQLRequestError, query } from "./graphql.js";
import { formatNumber } from "./events.js";

const RECENT = 10;
const STREAKS = "currentWinStreak longestWinStreak";
const INSIGHTS = `query Insights($username: String!) { user(username: $username) {
  stats { ${STREAKS} }
  games { game stats { matchesPlayed matchesWon matchesLost winRate tournamentsPlayed tournamentsWon ${STREAKS} } } } }`;
const FORM = `query Form($username: String!, $last: Int!) { user(username: $username) {
  recentResults(last: $last) { outcome playedAt game match { round tournament { name } } } } }`;

const LETTER = { WON: "W", LOST: "L", FORFEIT: "F" };
const SAID = { WON: "Won", LOST: "Lost", FORFEIT: "Forfeit" };
const percent = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });

const $ = (id) => document.getElementById(id);

function text(tag, className, value) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = value;
  return node;
}

function gameCard({ game, stats }) {
  const card = document.createElement("li");
  card.className = "game-card";
  card.dataset.game = game;
  card.append(text("h3", "game-name", game));
  const facts = document.createElement("dl");
  for (const [label, key, value] of [
    ["W–L", "record", `${formatNumber(stats.matchesWon)}–${formatNumber(stats.matchesLost)}`],
    ["Matches", "matches", formatNumber(stats.matchesPlayed)],
    ["Win rate", "winRate", percent.format(stats.winRate)],
    ["Tournaments won", "tournaments", `${formatNumber(stats.tournamentsWon)} of ${formatNumber(stats.tournamentsPlayed)}`],
    ["Streak", "streak", `${stats.currentWinStreak} · best ${stats.longestWinStreak}`],
  ]) {
    const row = document.createElement("div");
    row.append(text("dt", "", label));
    const dd = text("dd", "", value);
    dd.dataset.gameStat = key;
    row.append(dd);
    facts.append(row);
  }
  card.append(facts);
  return card;
}

function formItem(result) {
  const item = text("li", `form-item form-${result.outcome.toLowerCase()}`, LETTER[result.outcome]);
  item.dataset.outcome = result.outcome;
  const where = result.match ? ` in ${result.match.tournament.name}, round ${result.match.round}` : "";
  item.title = `${SAID[result.outcome]}${where} (${result.game ?? "unknown game"})`;
  item.setAttribute("aria-label", item.title);
  return item;
}

async function loadForm(endpoint, username) {
  const row = $("form-row");
  try {
    const data = await query(endpoint, FORM, { username, last: RECENT });
    const results = data.user?.recentResults ?? [];
    row.replaceChildren(...results.map(formItem));
    $("form-empty").hidden = results.length > 0;
    row.dataset.state = results.length ? "ready" : "empty";
  } catch (error) {
    const forbidden = error instanceof GraphQLRequestError && error.code === "FORBIDDEN";
    $("form-empty").textContent = forbidden ? "Recent results are private." : "Could not load recent results.";
    $("form-empty").hidden = false;
    row.dataset.state = forbidden ? "private" : "error";
  }
}

export async function loadInsights(endpoint, username) {
  const section = $("insights-section");
  section.hidden = false;
  try {
    const data = await query(endpoint, INSIGHTS, { username });
    const user = data.user;
    if (!user) return;
    for (const key of ["currentWinStreak", "longestWinStreak"]) {
      section.querySelector(`[data-insight="${key}"]`).textContent = formatNumber(user.stats[key]);
    }
    const cards = $("game-cards");
    cards.replaceChildren(...user.games.map(gameCard));
    $("games-empty").hidden = user.games.length > 0;
    cards.dataset.state = user.games.length ? "ready" : "empty";
  } catch {
    $("game-cards").dataset.state = "error";
  }
  await loadForm(endpoint, username);
  section.dataset.state = "ready";
}
