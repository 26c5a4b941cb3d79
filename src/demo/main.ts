/**
 * The demo page: an infinite-scroll list over a whole channel with the typed
 * client. The page holds one contiguous block of messages around what is on
 * screen (its declared view), renders only the visible rows, and draws its own
 * scrollbar by position: browsers cap element heights near 33 million pixels,
 * far short of a million rows.
 */
import { type Message, type PageBody, ScrollbackClient, ScrollbackHttp } from "../client/index.ts";

const ROW = 28;
/** Rows fetched beyond the screen on each side. */
const MARGIN = 60;
/** Most rows the block keeps. */
const MAX_BLOCK = 600;

const params = new URLSearchParams(location.search);
const channel = params.get("channel") ?? "demo";
const user = params.get("user") ?? `guest${Math.floor(Math.random() * 1000)}`;

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

// On a secured worker, open the page with ?token=<jwt> (npm run token).
const token = params.get("token") ?? undefined;
const client = new ScrollbackClient({
  url: location.origin,
  channel,
  user,
  ...(token ? { token } : {}),
});
const http = new ScrollbackHttp({ url: location.origin, channel, token });

/** Everything the page knows, in one place. */
const state = {
  total: 0,
  /** Contiguous messages at positions start … start + messages.length − 1. */
  block: { start: 0, messages: [] as Message[] },
  /** Position of the first row on screen. */
  top: 0,
  /** Following the bottom of the channel. */
  live: true,
  lateUnread: 0,
  highlight: null as string | null,
  /** Set by an insert (whose positions are exact), so its status does not shift the block twice. */
  synced: false,
  timeline: [] as { position: number; ts: number }[],
  /** Only the newest fetch may replace the block. */
  fetchSeq: 0,
};
// For the browser test and for curious developers.
Object.assign(globalThis, { scrollback: { state, client } });

const visibleRows = () => Math.max(1, Math.floor(viewport.clientHeight / ROW));
const maxTop = () => Math.max(0, state.total - visibleRows());
const atBottom = () => state.top >= maxTop();
const keyOf = (m: Message) => ({ ts: m.ts, id: m.id });
const byKey = (a: Message, b: Message) =>
  a.ts !== b.ts ? a.ts - b.ts : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

function formatTime(ts: number): string {
  return new Date(ts).toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

// ── Rendering ──────────────────────────────────────────────────────────────

function render(): void {
  const n = visibleRows();
  const { start, messages } = state.block;
  const html: string[] = [];
  for (let p = state.top; p < Math.min(state.total, state.top + n); p++) {
    const m = messages[p - start];
    if (!m) {
      html.push(
        `<div class="row placeholder" data-position="${p}"><span class="pos">#${p}</span>…</div>`,
      );
      continue;
    }
    const cls = [
      "row",
      m.late ? "late" : "",
      m.unread ? "unread" : "",
      m.id === state.highlight ? "highlight" : "",
    ];
    html.push(
      `<div class="${cls.join(" ").trim()}" data-position="${p}" data-id="${escapeHtml(m.id)}">` +
        `<span class="pos">#${p}</span><span class="time">${formatTime(m.ts)}</span>` +
        `<span class="author">${escapeHtml(m.author)}</span>${escapeHtml(m.text)}</div>`,
    );
  }
  rowsEl.innerHTML = html.join("");
  renderScrollbar();
  totalEl.textContent = `${state.total.toLocaleString()} messages`;
  badge.hidden = state.lateUnread === 0;
  badge.textContent = `${state.lateUnread} late ↓`;
}

function renderScrollbar(): void {
  const track = scrollbar.clientHeight;
  const size = Math.max(24, (track * visibleRows()) / Math.max(state.total, 1));
  const fraction = maxTop() === 0 ? 1 : state.top / maxTop();
  thumb.style.height = `${size}px`;
  thumb.style.top = `${(track - size) * fraction}px`;
  scrollbar.setAttribute("aria-valuemax", String(maxTop()));
  scrollbar.setAttribute("aria-valuenow", String(state.top));
  const ts = tsAt(state.top);
  thumbLabel.textContent = ts === undefined ? `#${state.top}` : `${formatTime(ts)} · #${state.top}`;
}

/** The ts at a position, interpolated from the timeline: for the label under the thumb. */
function tsAt(position: number): number | undefined {
  const points = state.timeline;
  const m = state.block.messages[position - state.block.start];
  if (m) return m.ts;
  if (points.length < 2) return undefined;
  let i = 1;
  while (i < points.length - 1 && (points[i]?.position ?? 0) < position) i++;
  const a = points[i - 1];
  const b = points[i];
  if (!a || !b) return undefined;
  const f = b.position === a.position ? 0 : (position - a.position) / (b.position - a.position);
  return Math.round(a.ts + f * (b.ts - a.ts));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ── Data ───────────────────────────────────────────────────────────────────

function setBlock(page: PageBody): void {
  state.total = page.total;
  state.block = { start: page.start, messages: page.messages };
}

/** Declares what the page holds, so the server keeps it current and marks it seen. */
async function declareView(): Promise<void> {
  const { messages, start } = state.block;
  const first = messages[0];
  const last = messages[messages.length - 1];
  const holdsBottom = start + messages.length >= state.total;
  state.live = atBottom() && holdsBottom;
  state.lateUnread = await client.view({
    first: first ? keyOf(first) : null,
    last: last ? keyOf(last) : null,
    live: state.live,
  });
  // Declaring the view marked its late messages seen.
  for (const m of messages) delete m.unread;
  render();
}

/** Makes sure the block covers the screen; fetches around `top` when it does not. */
async function ensureLoaded(force = false): Promise<void> {
  const n = visibleRows();
  const { start, messages } = state.block;
  const covered = state.top >= start && state.top + n <= start + messages.length;
  if (covered && !force) return;
  const seq = ++state.fetchSeq;
  const page = await client.page({
    anchor: { position: state.top },
    before: MARGIN,
    after: n + MARGIN,
  });
  if (seq !== state.fetchSeq) return;
  setBlock(page);
  state.top = Math.min(state.top, maxTop());
  await declareView();
}

let pendingJump: ReturnType<typeof setTimeout> | undefined;
/** Scrolls to a position: rows render at once (placeholders), data follows. */
function scrollTo(top: number): void {
  state.top = Math.round(Math.min(Math.max(top, 0), maxTop()));
  render();
  clearTimeout(pendingJump);
  pendingJump = setTimeout(() => ensureLoaded().catch(showError), 40);
}

async function openNewest(): Promise<void> {
  const n = visibleRows();
  const page = await client.page({ anchor: "newest", before: n + MARGIN, after: 0 });
  setBlock(page);
  state.top = maxTop();
  await declareView();
  refreshTimeline();
}

function refreshTimeline(): void {
  http
    .timeline(200)
    .then((body) => {
      state.timeline = body.points;
      renderScrollbar();
    })
    .catch(() => {});
}

// ── Pushes ─────────────────────────────────────────────────────────────────

client.on("hello", (hello) => {
  conn.textContent = `connected as ${hello.user}`;
  state.total = hello.total;
  state.lateUnread = hello.lateUnread;
  // First connection: the newest messages; a reconnect: reload what was on screen.
  (state.block.messages.length === 0 || state.live ? openNewest() : ensureLoaded(true)).catch(
    showError,
  );
});

client.on("disconnect", ({ reconnecting }) => {
  conn.textContent = reconnecting ? "reconnecting…" : "closed";
});

client.on("insert", (frame) => {
  const fresh = frame.messages;
  const first = fresh[0];
  if (!first) return;
  const merged = [
    ...state.block.messages.filter((m) => !fresh.some((f) => f.id === m.id)),
    ...fresh,
  ].sort(byKey);
  const at = merged.findIndex((m) => m.id === first.id);
  // Pushed positions are exact: they re-anchor the block.
  state.block = { start: (first.position ?? 0) - at, messages: trim(merged) };
  state.total = frame.total;
  state.synced = true;
  if (state.live) state.top = maxTop();
  render();
});

client.on("status", (status) => {
  const wasLive = state.live;
  state.total = status.total;
  if (!state.synced) state.block.start += status.shifted;
  state.synced = false;
  // Keep what the reader is looking at still: everything above moved down by `shifted`.
  state.top = wasLive ? maxTop() : state.top + status.shifted;
  state.lateUnread = status.lateUnread;
  render();
});

/** Keeps the block within MAX_BLOCK rows, dropping the side away from the screen. */
function trim(messages: Message[]): Message[] {
  if (messages.length <= MAX_BLOCK) return messages;
  const drop = messages.length - MAX_BLOCK;
  const startOffset = state.live ? drop : 0;
  if (startOffset > 0) state.block.start += startOffset;
  return messages.slice(startOffset, startOffset + MAX_BLOCK);
}

// ── Input ──────────────────────────────────────────────────────────────────

viewport.addEventListener(
  "wheel",
  (event) => {
    event.preventDefault();
    const rows = Math.sign(event.deltaY) * Math.max(1, Math.round(Math.abs(event.deltaY) / ROW));
    scrollTo(state.top + rows);
  },
  { passive: false },
);

document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement) return;
  const n = visibleRows();
  const moves: Record<string, number> = {
    ArrowDown: 1,
    ArrowUp: -1,
    PageDown: n,
    PageUp: -n,
    End: Infinity,
    Home: -Infinity,
  };
  const move = moves[event.key];
  if (move === undefined) return;
  event.preventDefault();
  scrollTo(move === Infinity ? maxTop() : move === -Infinity ? 0 : state.top + move);
});

function dragTo(clientY: number): void {
  const rect = scrollbar.getBoundingClientRect();
  const size = thumb.offsetHeight;
  const fraction = (clientY - rect.top - size / 2) / Math.max(1, rect.height - size);
  scrollTo(Math.min(Math.max(fraction, 0), 1) * maxTop());
}

scrollbar.addEventListener("pointerdown", (event) => {
  scrollbar.setPointerCapture(event.pointerId);
  scrollbar.classList.add("dragging");
  dragTo(event.clientY);
});
scrollbar.addEventListener("pointermove", (event) => {
  if (scrollbar.hasPointerCapture(event.pointerId)) dragTo(event.clientY);
});
scrollbar.addEventListener("pointerup", (event) => {
  scrollbar.releasePointerCapture(event.pointerId);
  scrollbar.classList.remove("dragging");
});

badge.addEventListener("click", async () => {
  const n = visibleRows();
  const page = await client.lateNext({ before: MARGIN, after: n + MARGIN });
  if (!page) {
    state.lateUnread = 0;
    render();
    return;
  }
  ++state.fetchSeq;
  setBlock(page);
  const anchor = page.messages[page.anchorIndex ?? 0];
  state.highlight = anchor?.id ?? null;
  const anchorPosition = page.start + (page.anchorIndex ?? 0);
  state.top = Math.min(Math.max(0, anchorPosition - Math.floor(n / 2)), maxTop());
  await declareView();
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
}

window.addEventListener("resize", () => scrollTo(state.top));
setInterval(refreshTimeline, 30_000);
refreshSimulator().catch(() => {});
client.connect().catch(showError);
