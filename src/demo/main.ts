/**
 * The demo page: an infinite-scroll list over a whole channel. All list
 * bookkeeping (pages, pushes, shifts, trims, resumes) lives in the client
 * library's ChannelWindow; this file only renders it and turns input into
 * "show positions a … b". It draws its own scrollbar by position: browsers cap
 * element heights near 33 million pixels, far short of a million rows.
 */
import {
  ChannelWindow,
  ScrollbackClient,
  ScrollbackError,
  ScrollbackHttp,
} from "../client/index.ts";
import { formatTime, interpolateTs, rowHtml } from "./format.ts";
import { bindScrolling } from "./input.ts";

const ROW = 28;
/** Rows fetched beyond the screen on each side. */
const MARGIN = 60;
/** Most rows the window keeps. */
const MAX_WINDOW = 600;
const USER_KEY = "scrollback.user";

const params = new URLSearchParams(location.search);
const channel = params.get("channel") ?? "demo";
// The user name survives a reload, and with it the user's late badge (kept by the server).
const user =
  params.get("user") ??
  localStorage.getItem(USER_KEY) ??
  `guest${Math.floor(Math.random() * 1000)}`;
localStorage.setItem(USER_KEY, user);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const viewport = $<HTMLElement>("viewport");
const rowsEl = $<HTMLDivElement>("rows");
const scrollbar = $<HTMLDivElement>("scrollbar");
const thumb = $<HTMLDivElement>("thumb");
const thumbLabel = $<HTMLSpanElement>("thumb-label");
const badge = $<HTMLButtonElement>("late-badge");
const conn = $<HTMLSpanElement>("conn");
const totalEl = $<HTMLSpanElement>("total");
const simToggle = $<HTMLButtonElement>("sim-toggle");
$<HTMLInputElement>("channel").value = channel;
$<HTMLInputElement>("user").value = user;

// On a secured worker, open the page with #token=<jwt> (npm run token): a
// fragment is never sent to a server, so it stays out of logs (?token= works too).
const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? params.get("token");
/** Every socket the client opened: the browser test drops the connection through it. */
const sockets: WebSocket[] = [];
class TrackedSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    sockets.push(this);
  }
}
const client = new ScrollbackClient({
  url: location.origin,
  channel,
  user,
  WebSocket: TrackedSocket,
  // The client offers the token as a subprotocol: it never goes in the socket's URL.
  ...(token ? { token } : {}),
});
const http = new ScrollbackHttp({ url: location.origin, channel, token: token ?? undefined });
const list = new ChannelWindow(client, { maxSize: MAX_WINDOW, margin: MARGIN });
const w = list.window;

/** What the page adds to the window: where the reader is. */
const state = {
  /** Position of the first row on screen. */
  top: 0,
  /** The message in the first row: it keeps the reader's place when rows land above. */
  topId: null as string | null,
  /** Following the bottom of the channel. */
  following: true,
  highlight: null as string | null,
  timeline: [] as { position: number; ts: number }[],
};
// For the browser test and for curious developers.
Object.assign(globalThis, { scrollback: { state, client, window: w, sockets } });

const visibleRows = () => Math.max(1, Math.floor(viewport.clientHeight / ROW));
const maxTop = () => Math.max(0, w.total - visibleRows());

// ── Rendering ──────────────────────────────────────────────────────────────

/** Puts the reader back where they were: at the bottom, or on the message in the first row. */
function keepPlace(): void {
  const at = state.topId === null ? undefined : w.positionOf(state.topId);
  if (state.following) state.top = maxTop();
  else if (at !== undefined) state.top = at;
  state.top = Math.min(Math.max(state.top, 0), maxTop());
  state.topId = w.at(state.top)?.id ?? null;
}

function render(): void {
  keepPlace();
  const n = visibleRows();
  const html: string[] = [];
  for (let p = state.top; p < Math.min(w.total, state.top + n); p++) {
    const m = w.at(p);
    html.push(
      m
        ? rowHtml(p, m, state.highlight)
        : `<div class="row placeholder" data-position="${p}">…</div>`,
    );
  }
  rowsEl.innerHTML = html.join("");
  renderScrollbar();
  totalEl.textContent = `${w.total.toLocaleString()} messages`;
  badge.hidden = w.lateUnread === 0;
  badge.textContent = `${w.lateUnread} late ↓`;
}

function renderScrollbar(): void {
  const track = scrollbar.clientHeight;
  const size = Math.max(24, (track * visibleRows()) / Math.max(w.total, 1));
  const fraction = maxTop() === 0 ? 1 : state.top / maxTop();
  thumb.style.height = `${size}px`;
  thumb.style.top = `${(track - size) * fraction}px`;
  scrollbar.setAttribute("aria-valuemax", String(maxTop()));
  scrollbar.setAttribute("aria-valuenow", String(state.top));
  const ts = tsAt(state.top);
  thumbLabel.textContent = ts === undefined ? `#${state.top}` : `${formatTime(ts)} · #${state.top}`;
}

/** The ts at a position: the message's when held, else interpolated from the timeline. */
function tsAt(position: number): number | undefined {
  return w.at(position)?.ts ?? interpolateTs(state.timeline, position);
}

// ── Data ───────────────────────────────────────────────────────────────────

list.onChange(render);

/** Asks the window for what is on screen; rows render at once (placeholders), data follows. */
function show(): void {
  list.show(state.top, state.top + visibleRows(), state.following).catch(showError);
}

let pendingJump: ReturnType<typeof setTimeout> | undefined;
/** Scrolls to a position. */
function scrollTo(top: number): void {
  state.top = Math.round(Math.min(Math.max(top, 0), maxTop()));
  state.following = state.top >= maxTop();
  state.topId = w.at(state.top)?.id ?? null;
  state.highlight = null;
  render();
  clearTimeout(pendingJump);
  pendingJump = setTimeout(show, 40);
}

function refreshTimeline(): void {
  http
    // Labels need real dates near even spacing, not exact spacing: the cheap points.
    .timeline({ points: 200, exact: false })
    .then((body) => {
      state.timeline = body.points;
      renderScrollbar();
    })
    .catch(() => {});
}

client.on("hello", (hello) => {
  conn.textContent = `connected as ${hello.user}`;
});
client.on("resync", (event) => {
  conn.textContent = event.complete
    ? `connected as ${user} · resumed`
    : `connected as ${user} · reloaded`;
});
client.on("disconnect", ({ reconnecting }) => {
  conn.textContent = reconnecting ? "reconnecting…" : "closed";
});

// ── Input ──────────────────────────────────────────────────────────────────

bindScrolling({
  viewport,
  scrollbar,
  thumb,
  rowHeight: ROW,
  top: () => state.top,
  maxTop,
  visibleRows,
  scrollTo,
});

badge.addEventListener("click", async () => {
  const n = visibleRows();
  const page = await list.late({ before: MARGIN, after: n + MARGIN }).catch(showError);
  if (!page) {
    render();
    return;
  }
  const anchor = page.messages[page.anchorIndex ?? 0];
  state.highlight = anchor?.id ?? null;
  const anchorPosition = page.start + (page.anchorIndex ?? 0);
  state.following = false;
  state.top = Math.max(0, anchorPosition - Math.floor(n / 2));
  state.topId = null;
  state.top = Math.min(state.top, maxTop());
  state.topId = w.at(state.top)?.id ?? null;
  render();
});

$<HTMLFormElement>("open-form").addEventListener("submit", () => {
  // The form navigates with ?channel=&user=; remember the name for the next visit.
  localStorage.setItem(USER_KEY, $<HTMLInputElement>("user").value);
});

$<HTMLFormElement>("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>("text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  await client.send([{ text }]).catch(showError);
});

async function refreshSimulator(): Promise<void> {
  const sim = await http.simulator();
  simToggle.textContent = sim.running ? "Stop simulator" : "Start simulator";
  simToggle.dataset.running = String(sim.running);
}

simToggle.addEventListener("click", async () => {
  const running = simToggle.dataset.running === "true";
  await (running ? http.stopSimulator() : http.startSimulator()).catch(showError);
  await refreshSimulator();
});

function showError(err: unknown): void {
  conn.textContent = `error: ${err instanceof Error ? err.message : String(err)}`;
  conn.classList.add("error");
}

/**
 * Asks the server about the channel over HTTP first: a bad channel name (or
 * token) gets its error message there, where a refused WebSocket upgrade
 * would only say "closed" and retry forever.
 */
async function checkChannel(): Promise<boolean> {
  try {
    await http.stats();
    return true;
  } catch (err) {
    const message = err instanceof ScrollbackError ? err.message : String(err);
    showError(new Error(`channel "${channel}": ${message}`));
    return false;
  }
}

async function start(): Promise<void> {
  if (!(await checkChannel())) return;
  await client.connect();
  await list.open(visibleRows());
  state.following = true;
  render();
  refreshTimeline();
  refreshSimulator().catch(() => {});
  setInterval(refreshTimeline, 30_000);
}

window.addEventListener("resize", () => scrollTo(state.following ? maxTop() : state.top));
start().catch(showError);
