/**
 * The demo page: an infinite-scroll list over a whole channel. All list
 * bookkeeping (pages, pushes, shifts, trims, resumes) lives in the client
 * library's ChannelWindow; this file only renders it and turns input into
 * "show positions a … b". It draws its own scrollbar by position: browsers cap
 * element heights near 33 million pixels, far short of a million rows. The
 * rows (row.ts) carry reactions, edits and deletes (row-actions.ts); a row
 * with reactions is taller, so how many rows fit comes from geometry.ts.
 * The reader's place (protocol 1.2): it opens at the first unread message
 * under a "new messages" line, moves the read marker as rows come on
 * screen, and shows the badges and the unread count (badges.ts).
 */
import { ChannelWindow, type PageBody } from "../client/index.ts";
import { bindBadges } from "./badges.ts";
import { connect } from "./connect.ts";
import { formatTime, interpolateTs } from "./format.ts";
import { bottomTop, type HeightOf, lastWholeRow, rowsFrom } from "./geometry.ts";
import { bindHeader } from "./header.ts";
import { bindScrolling } from "./input.ts";
import { PLACEHOLDER_HTML, ROW, type RowUi, rowHeight, rowHtml } from "./row.ts";
import { bindRowActions } from "./row-actions.ts";
import { patchRows, type RowView } from "./rows-view.ts";

/** Rows fetched beyond the screen on each side. */
const MARGIN = 60;
/** Most rows the window keeps. */
const MAX_WINDOW = 600;
const connection = connect();
const { user, client, http, sockets } = connection;
const { showError, checkChannel, refreshSimulator } = bindHeader(connection);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const viewport = $<HTMLElement>("viewport");
const rowsEl = $<HTMLDivElement>("rows");
const scrollbar = $<HTMLDivElement>("scrollbar");
const thumb = $<HTMLDivElement>("thumb");
const thumbLabel = $<HTMLSpanElement>("thumb-label");
const totalEl = $<HTMLSpanElement>("total");

const list = new ChannelWindow(client, { maxSize: MAX_WINDOW, margin: MARGIN });
const w = list.window;
const actions = bindRowActions({
  rows: rowsEl,
  change: (changes) => client.change(changes),
  messageOf: (id) => w.at(w.positionOf(id) ?? -1),
  render: () => render(),
  showError: (err) => showError(err),
  rest: () => viewport.focus({ preventScroll: true }),
});

/** What the page adds to the window: where the reader is. */
const state = {
  /** Position of the first row on screen. */
  top: 0,
  /**
   * The message in the first row: it keeps the reader's place when rows land
   * or vanish above (so does the window's `reader`, which also covers a first
   * row not held yet and the one deleted under the reader).
   */
  topId: null as string | null,
  /** The user as the server knows them (a token's subject wins over the page's name). */
  me: user,
  /** Following the bottom of the channel. */
  following: true,
  highlight: null as string | null,
  /**
   * The first unread message when the channel opened: the "new messages"
   * line stays above it (Slack's), where the window's `firstUnread` follows
   * the marker down as the reader reads.
   */
  newLine: null as string | null,
  /** Opened where the reader stopped: from then on, what is on screen is read. */
  opened: false,
  timeline: [] as { position: number; ts: number }[],
};
// For the browser test and for curious developers.
Object.assign(globalThis, { scrollback: { state, client, window: w, sockets } });

/** Rows on a screen of one-line rows: what the keys page by and the thumb measures. */
const visibleRows = () => Math.max(1, Math.floor(viewport.clientHeight / ROW));
const rowUi = (): RowUi => ({
  me: state.me,
  highlight: state.highlight,
  newLine: state.newLine,
  ...actions,
});
/** Each row's height as drawn for `ui`. */
function heights(ui = rowUi()): HeightOf {
  return (p) => rowHeight(w.at(p), ui);
}
/** Rows have their own heights (a line, and one for reactions): the last row's top at the bottom depends on them. */
const maxTop = () => bottomTop(w.total, heights(), viewport.clientHeight);

// ── Rendering ──────────────────────────────────────────────────────────────

/**
 * Puts the reader back where they were: at the bottom, or on the message in
 * the first row, or else where the window's reader went (rows above it
 * deleted or landed; its own row deleted: the next one).
 */
function keepPlace(): void {
  const at = state.topId === null ? undefined : w.positionOf(state.topId);
  if (state.following) state.top = maxTop();
  else state.top = at ?? list.reader;
  state.top = Math.min(Math.max(state.top, 0), maxTop());
  state.topId = w.at(state.top)?.id ?? null;
  w.setReader(state.top);
}

/**
 * Draws the rows on screen: from the first row down when parked (rows
 * deleted in view close up beneath it, nothing above it moves), from the
 * bottom up when following (the newest row stays at the bottom).
 */
function render(): void {
  keepPlace();
  const ui = rowUi();
  const n = state.following
    ? w.total - state.top
    : rowsFrom(state.top, w.total, heights(ui), viewport.clientHeight);
  const rows: RowView[] = [];
  for (let p = state.top; p < state.top + n; p++) {
    const m = w.at(p);
    rows.push(
      m
        ? { key: m.id, position: p, html: rowHtml(m, ui) }
        : { key: `#${p}`, position: p, html: PLACEHOLDER_HTML },
    );
  }
  rowsEl.classList.toggle("following", state.following);
  patchRows(rowsEl, rows, fillEditor);
  renderScrollbar();
  totalEl.textContent = `${w.total.toLocaleString()} messages`;
  renderBadges(state.following);
  markRead();
}

/**
 * The reader has seen the held rows wholly on screen: the read marker moves
 * to the last of them (ChannelWindow sends at most one `read` a pause, and
 * none that would not move the marker). Only on a page the reader can see.
 */
function markRead(): void {
  if (!state.opened || document.visibilityState !== "visible") return;
  const whole = state.following
    ? w.total - 1
    : lastWholeRow(state.top, w.total, heights(), viewport.clientHeight);
  const last = Math.min(whole, w.end - 1);
  if (last >= Math.max(state.top, w.start)) list.markRead(last);
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

/** A row built anew while its message is edited gets the text typed so far. */
function fillEditor(el: HTMLElement, key: string): void {
  const input = el.querySelector<HTMLInputElement>(".edit-text");
  if (input && actions.editing?.id === key) input.value = actions.editing.draft;
}

/** The ts at a position: the message's when held, else interpolated from the timeline. */
function tsAt(position: number): number | undefined {
  return w.at(position)?.ts ?? interpolateTs(state.timeline, position);
}

// ── Data ───────────────────────────────────────────────────────────────────

list.onChange(render);

/** Asks the window for what is on screen; rows render at once (placeholders), data follows. */
function show(): void {
  // One more than whole one-line rows fit: the last one on screen may be cut.
  list.show(state.top, state.top + visibleRows() + 1, state.following).catch(showError);
}

let pendingJump: ReturnType<typeof setTimeout> | undefined;
/** Scrolls to a position. */
function scrollTo(top: number): void {
  state.top = Math.round(Math.min(Math.max(top, 0), maxTop()));
  state.following = state.top >= maxTop();
  state.topId = w.at(state.top)?.id ?? null;
  w.setReader(state.top);
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
  state.me = hello.user;
});

/** Puts a badge's jump on screen: its target highlighted, near the middle. */
function land(page: PageBody): void {
  const n = visibleRows();
  const index = page.anchorIndex ?? 0;
  state.highlight = page.messages[index]?.id ?? null;
  state.following = false;
  state.top = Math.min(Math.max(0, page.start + index - Math.floor(n / 2)), maxTop());
  state.topId = w.at(state.top)?.id ?? null;
  w.setReader(state.top);
  render();
}

const renderBadges = bindBadges({
  list,
  // The target near the middle of the screen, a margin beyond each side.
  sides: () => ({ before: MARGIN, after: visibleRows() + MARGIN }),
  land,
  toBottom: () => scrollTo(maxTop()),
  render,
  showError,
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

async function start(): Promise<void> {
  if (!(await checkChannel())) return;
  const hello = await client.connect();
  // Where the user stopped reading; a user who never read here (no marker: all of it unread) at the newest.
  const at = hello.read === null ? "newest" : "first_unread";
  state.following = at === "newest";
  await list.open({ at, rows: visibleRows() });
  // The window's reader is the last message read: the line shows under the first row.
  const first = list.firstUnread;
  state.newLine = first === null ? null : (w.at(first)?.id ?? null);
  state.following = w.live && (at === "newest" || list.reader >= maxTop());
  state.opened = true;
  render();
  show();
  refreshTimeline();
  refreshSimulator().catch(() => {});
  setInterval(refreshTimeline, 30_000);
}

// Rows on screen while the page was hidden are read once it shows.
document.addEventListener("visibilitychange", () => markRead());
window.addEventListener("resize", () => scrollTo(state.following ? maxTop() : state.top));
start().catch(showError);
