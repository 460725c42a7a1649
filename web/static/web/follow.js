// The follow button and the follow counts of the profile page, over the public GraphQL API.
// Its own module: the profile script knows nothing of it. The button shows for a signed-in
// viewer on someone else's profile; anyone sees the counts.

import { query } from "./graphql.js";

const FIELDS = "id followersCount followingCount viewerFollows";
const LOAD = `query Follows($username: String!) {
  me { id } user(username: $username) { ${FIELDS} } }`;
const FOLLOW = `mutation Follow($userId: ID!) { followPlayer(input: {userId: $userId}) { ${FIELDS} } }`;
const UNFOLLOW = `mutation Unfollow($userId: ID!) { unfollowPlayer(input: {userId: $userId}) { ${FIELDS} } }`;

const root = document.getElementById("profile");
const slot = document.getElementById("follow-slot");
const button = document.getElementById("follow-button");
const status = document.getElementById("follow-status");

function plural(count, one, many) {
  return `${count.toLocaleString("en")} ${count === 1 ? one : many}`;
}

function show(user) {
  document.getElementById("followers-count").textContent = plural(user.followersCount, "follower", "followers");
  document.getElementById("following-count").textContent = `${user.followingCount.toLocaleString("en")} following`;
  button.textContent = user.viewerFollows ? "Following" : "Follow";
  button.setAttribute("aria-pressed", String(user.viewerFollows));
  button.dataset.following = String(user.viewerFollows);
}

async function start() {
  let data;
  try {
    data = await query(root.dataset.graphql, LOAD, { username: root.dataset.username });
  } catch {
    return; // the profile script reports an unknown player or an unreachable server
  }
  const user = data.user;
  if (!user) return;
  show(user);
  slot.hidden = false;
  const mine = data.me && data.me.id === user.id;
  if (!data.me || mine) {
    slot.dataset.state = "ready";
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    const follow = button.dataset.following !== "true";
    button.disabled = true;
    status.textContent = "";
    try {
      const answer = await query(root.dataset.graphql, follow ? FOLLOW : UNFOLLOW, { userId: user.id });
      show(follow ? answer.followPlayer : answer.unfollowPlayer);
      slot.dataset.state = "ready";
    } catch (error) {
      status.textContent = `Could not ${follow ? "follow" : "unfollow"}: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });
  slot.dataset.state = "ready";
}

start();
