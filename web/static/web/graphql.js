// The page's only way to data: the public GraphQL API, over HTTP POST for queries and over
// WebSocket (graphql-transport-ws) for subscriptions. Plain JS, no build step, no CDN.

/** A GraphQL response with errors; `code` is the first error's extensions.code (FORBIDDEN, ...). */
export class GraphQLRequestError extends Error {
  constructor(errors, data = null) {
    super(errors.map((error) => error.message).join("; ") || "GraphQL request failed");
    this.errors = errors;
    this.data = data;
    this.code = errors[0]?.extensions?.code ?? null;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

/** POST one query; resolves with `data`, rejects with GraphQLRequestError (bounded by a timeout). */
export async function query(endpoint, text, variables = {}, { timeoutMs = 15000 } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        // A signed-in viewer's session POST needs the token the page's cookie carries.
        "X-CSRFToken": cookie("csrftoken"),
      },
      body: JSON.stringify({ query: text, variables }),
      signal: controller.signal,
    });
  } catch (error) {
    throw new GraphQLRequestError([
      { message: `Could not reach the server (${error.name})`, extensions: { code: "NETWORK" } },
    ]);
  } finally {
    clearTimeout(timer);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new GraphQLRequestError([
      { message: `HTTP ${response.status}`, extensions: { code: `HTTP_${response.status}` } },
    ]);
  }
  if (body.errors?.length) throw new GraphQLRequestError(body.errors, body.data ?? null);
  return body.data;
}

const PROTOCOL = "graphql-transport-ws";
const ACK_TIMEOUT_MS = 10000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
/** Close codes after which reconnecting cannot help (bad request, unauthorized, forbidden). */
const FATAL_CLOSES = new Set([4400, 4401, 4403]);

/**
 * A minimal graphql-transport-ws client: connection_init, subscribe, next/error/complete,
 * ping/pong, and reconnect with backoff. Each subscription's variables are a function, read on
 * every (re)subscribe, so a feed resumes with `after` = the newest cursor it has.
 */
export class LiveClient {
  constructor(url, { onStatus = () => {} } = {}) {
    this.url = url;
    this.onStatus = onStatus;
    this.subscriptions = new Map();
    this.socket = null;
    this.acknowledged = false;
    this.attempt = 0;
    this.sequence = 0;
    this.retryTimer = null;
    this.stopped = false;
  }

  /** Register a subscription; it is (re)sent on every acknowledged connection. */
  subscribe({ query: text, variables = () => ({}), next, error = () => {} }) {
    const id = `sub-${++this.sequence}`;
    this.subscriptions.set(id, { text, variables, next, error });
    if (this.acknowledged) this.#send(id);
    else if (!this.socket) this.#connect();
    return () => {
      this.subscriptions.delete(id);
      if (this.acknowledged) this.#write({ id, type: "complete" });
    };
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.close(1000, "page closed");
  }

  #connect() {
    if (this.stopped) return;
    this.onStatus("connecting");
    const socket = new WebSocket(this.url, PROTOCOL);
    this.socket = socket;
    this.acknowledged = false;
    const ackTimer = setTimeout(() => socket.close(4408, "no connection_ack"), ACK_TIMEOUT_MS);
    socket.addEventListener("open", () => {
      // Credentials: the browser's session cookie travels with the handshake; none in the payload.
      this.#write({ type: "connection_init", payload: {} });
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        socket.close(4400, "unparsable message");
        return;
      }
      this.#receive(message, ackTimer);
    });
    socket.addEventListener("close", (event) => {
      clearTimeout(ackTimer);
      if (this.socket !== socket) return;
      this.socket = null;
      this.acknowledged = false;
      if (this.stopped || FATAL_CLOSES.has(event.code) || this.subscriptions.size === 0) {
        this.onStatus("offline");
        return;
      }
      const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      this.onStatus("reconnecting");
      this.retryTimer = setTimeout(() => this.#connect(), delay + Math.random() * 250);
    });
  }

  #receive(message, ackTimer) {
    const subscription = message.id ? this.subscriptions.get(message.id) : null;
    switch (message.type) {
      case "connection_ack":
        clearTimeout(ackTimer);
        this.acknowledged = true;
        this.attempt = 0;
        this.onStatus("live");
        for (const id of this.subscriptions.keys()) this.#send(id);
        break;
      case "ping":
        this.#write({ type: "pong" });
        break;
      case "next":
        if (!subscription) break;
        if (message.payload?.errors?.length) {
          this.subscriptions.delete(message.id);
          subscription.error(new GraphQLRequestError(message.payload.errors));
        } else {
          subscription.next(message.payload.data);
        }
        break;
      case "error":
        if (!subscription) break;
        this.subscriptions.delete(message.id);
        subscription.error(new GraphQLRequestError(message.payload ?? []));
        break;
      case "complete":
        this.subscriptions.delete(message.id);
        break;
      default:
        break;
    }
  }

  #send(id) {
    const { text, variables } = this.subscriptions.get(id);
    this.#write({ id, type: "subscribe", payload: { query: text, variables: variables() } });
  }

  #write(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

/** ws(s)://<this host><path>: the API's WebSocket endpoint is its HTTP path on the same origin. */
export function websocketUrl(path) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
