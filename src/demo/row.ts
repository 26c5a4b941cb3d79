/**
 * One message row of the demo page as HTML: the "new messages" line above
 * it when it is the first unread message the channel opened at, its line
 * (time, author, text or the editor, the "edited" mark, the actions or the
 * delete confirmation), then its reactions and the reaction picker, each on
 * a line of its own.
 * Every control is a labelled button; `data-action` says what a click does
 * and `data-key` names it within the row, so focus survives a re-render.
 */
import type { Message } from "../client/index.ts";
import { escapeHtml, formatFullTime, formatTime } from "./format.ts";

/** Pixels of a row's line and of each line under it: style.css's --row and --line. */
export const ROW = 28;
export const LINE = 30;
/** Pixels of the "new messages" line above the first unread message: style.css's --new-line. */
export const NEW_LINE = 24;
/** The picker's emoji: the simulator's, so the page can answer its users in kind. */
export const PICKER = ["👍", "❤️", "😂", "🎉", "👀"] as const;

/** What the page is doing with its rows: who reads, and the one row being edited, confirmed or reacted to. */
export interface RowUi {
  /** The page's user: their own messages get edit and delete. */
  readonly me: string;
  readonly highlight: string | null;
  /** The message the "new messages" line is drawn above (the first unread one when the channel opened). */
  readonly newLine: string | null;
  /** The message being edited. */
  readonly editing: { readonly id: string } | null;
  /** The message whose delete waits for a confirmation. */
  readonly confirming: string | null;
  /** The message whose reaction picker is open. */
  readonly picking: string | null;
}

/** The row's height: a line, a line of reactions when it has any, a line for the open picker, the "new messages" line. */
export function rowHeight(m: Message | undefined, ui: RowUi): number {
  if (!m) return ROW;
  return (
    ROW +
    (m.reactions?.length ? LINE : 0) +
    (ui.picking === m.id ? LINE : 0) +
    (ui.newLine === m.id ? NEW_LINE : 0)
  );
}

/** The placeholder of a position not held yet. */
export const PLACEHOLDER_HTML = `<div class="row placeholder"><div class="line"><span class="pos"></span>…</div></div>`;

/**
 * One row, without its position (the page sets `data-position` and the `.pos`
 * text on the element, so rows landing above do not rebuild the rows below).
 */
export function rowHtml(m: Message, ui: RowUi): string {
  const own = m.author === ui.me;
  const cls = [
    "row",
    m.late ? "late" : "",
    m.unread ? "unread" : "",
    m.id === ui.highlight ? "highlight" : "",
    own ? "own" : "",
  ];
  const editing = ui.editing?.id === m.id ? ui.editing : null;
  return (
    `<div class="${cls.join(" ").replace(/ +/g, " ").trim()}" data-id="${escapeHtml(m.id)}">` +
    (ui.newLine === m.id ? NEW_LINE_HTML : "") +
    `<div class="line"><span class="pos"></span><span class="time">${formatTime(m.ts)}</span>` +
    `<span class="author">${escapeHtml(m.author)}</span>` +
    (editing ? EDITOR_HTML : `<span class="text">${escapeHtml(m.text)}</span>`) +
    (m.edited === undefined ? "" : editedHtml(m.edited)) +
    (ui.confirming === m.id ? CONFIRM_HTML : editing ? "" : actionsHtml(own, ui.picking === m.id)) +
    `</div>${reactionsHtml(m)}${ui.picking === m.id ? pickerHtml(m) : ""}</div>`
  );
}

/** Above the first unread message: a separator a screen reader announces. */
const NEW_LINE_HTML = `<div class="new-line" role="separator" aria-label="New messages"><span>New messages</span></div>`;

function editedHtml(edited: number): string {
  const when = formatFullTime(edited);
  return `<span class="edited" title="edited ${escapeHtml(when)}">edited</span>`;
}

/** The editor: its text is the draft, set on the element (typing must not change the row's HTML). */
const EDITOR_HTML =
  `<form class="editor"><input class="edit-text" data-key="editor" aria-label="Message text" ` +
  `maxlength="4000" autocomplete="off" enterkeyhint="done" />` +
  `<button type="submit" data-key="save">Save</button>` +
  `<button type="button" data-action="cancel-edit" data-key="cancel-edit">Cancel</button></form>`;

const CONFIRM_HTML =
  `<span class="confirm" role="group" aria-label="Delete this message?">Delete? ` +
  `<button type="button" class="danger" data-action="delete-yes" data-key="delete-yes">Delete</button>` +
  `<button type="button" data-action="delete-no" data-key="delete-no">Cancel</button></span>`;

function actionsHtml(own: boolean, picking: boolean): string {
  const button = (action: string, label: string, face: string, extra = "") =>
    `<button type="button" data-action="${action}" data-key="${action}" aria-label="${label}" title="${label}"${extra}>${face}</button>`;
  return (
    `<span class="actions">` +
    button("pick", "Add a reaction", "☺+", ` aria-expanded="${picking}"`) +
    (own
      ? button("edit", "Edit message", "Edit") + button("delete", "Delete message", "Delete")
      : "") +
    `</span>`
  );
}

/** The reactions: each a toggle of the user's own (pressed when it is on). */
function reactionsHtml(m: Message): string {
  if (!m.reactions?.length) return "";
  const chips = m.reactions.map(({ emoji, count, mine }) => {
    const e = escapeHtml(emoji);
    const label = `${e} ${count}${mine ? ", yours" : ""}`;
    return (
      `<button type="button" class="reaction${mine ? " mine" : ""}" data-action="react" data-emoji="${e}" ` +
      `data-key="react:${e}" aria-pressed="${mine === true}" aria-label="${label}" ` +
      `title="${mine ? "Remove your" : "Add your"} ${e}">${e}<span class="count">${count}</span></button>`
    );
  });
  return `<div class="reactions" role="group" aria-label="Reactions">${chips.join("")}</div>`;
}

function pickerHtml(m: Message): string {
  const mine = new Set(m.reactions?.filter((r) => r.mine).map((r) => r.emoji));
  const choices = PICKER.map(
    (emoji) =>
      `<button type="button" data-action="react" data-emoji="${emoji}" data-key="pick:${emoji}" ` +
      `aria-pressed="${mine.has(emoji)}" aria-label="React ${emoji}">${emoji}</button>`,
  );
  return (
    `<div class="picker" role="group" aria-label="Pick a reaction">${choices.join("")}` +
    `<button type="button" data-action="pick-close" data-key="pick-close" aria-label="Close the reaction picker">✕</button></div>`
  );
}
