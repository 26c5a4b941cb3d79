/**
 * The demo's counts of what the user has not seen: the late badge (unread
 * late messages) and the reaction badge (the user's messages with unread
 * reactions, Telegram's button), each a button that jumps to the next one in
 * context with a ✓ beside it that marks them all read, and the unread count
 * on the "jump to the newest" control. Every count is the window's, which
 * takes the server's cross-tab statuses: a user's tabs show the same counts.
 */
import type { ChannelWindow, PageBody } from "../client/index.ts";

export interface BadgesOptions {
  readonly list: ChannelWindow;
  /** Rows to fetch around a jump's target. */
  sides(): { before: number; after: number };
  /** Puts a jump's page on screen, its target highlighted. */
  land(page: PageBody): void;
  /** Scrolls to the newest message. */
  toBottom(): void;
  render(): void;
  showError(err: unknown): void;
}

/** Shows the counts: call on every render; `following` hides the "jump to the newest" control. */
export type RenderBadges = (following: boolean) => void;

export function bindBadges(options: BadgesOptions): RenderBadges {
  const { list, showError } = options;
  const button = (id: string) => document.getElementById(id) as HTMLButtonElement;
  const late = button("late-badge");
  const lateAck = button("late-ack");
  const reactions = button("reactions-badge");
  const reactionsAck = button("reactions-ack");
  const bottom = button("to-bottom");
  const bottomCount = bottom.querySelector(".unread-count") as HTMLElement;

  /** Jumps to what a badge points at; nothing left (another tab saw it): the badge just updates. */
  async function jump(
    next: (sides: { before: number; after: number }) => Promise<PageBody | null>,
  ) {
    const page = await next(options.sides()).catch(showError);
    if (page) options.land(page);
    else options.render();
  }
  late.addEventListener("click", () => jump((sides) => list.late(sides)));
  reactions.addEventListener("click", () => jump((sides) => list.reactions(sides)));
  // The window takes the ack's reply and renders; the user's other tabs hear a status.
  lateAck.addEventListener("click", () => list.ack().catch(showError));
  reactionsAck.addEventListener("click", () => list.ackReactions().catch(showError));
  bottom.addEventListener("click", () => options.toBottom());

  return (following) => {
    const w = list.window;
    showBadge(late, lateAck, w.lateUnread, "late ↓", plural(w.lateUnread, "late message"));
    showBadge(
      reactions,
      reactionsAck,
      w.reactionsUnread,
      "❤ ↓",
      `${plural(w.reactionsUnread, "message")} of yours with new reactions`,
    );
    bottom.hidden = following;
    bottom.dataset.count = String(w.unread);
    bottomCount.hidden = w.unread === 0;
    bottomCount.textContent = w.unread.toLocaleString();
    bottom.setAttribute(
      "aria-label",
      `Jump to the newest message${w.unread ? ` (${w.unread.toLocaleString()} unread)` : ""}`,
    );
  };
}

/** A badge and its ✓ (labelled in index.html): shown while there is something unread, the count on the badge. */
function showBadge(
  badge: HTMLButtonElement,
  ack: HTMLButtonElement,
  count: number,
  face: string,
  what: string,
): void {
  badge.hidden = ack.hidden = count === 0;
  badge.dataset.count = String(count);
  badge.textContent = `${count.toLocaleString()} ${face}`;
  badge.setAttribute("aria-label", `${what}: jump to the next`);
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString()} ${noun}${n === 1 ? "" : "s"}`;
}
