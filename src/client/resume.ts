/**
 * What the client does after a reconnect: `resume` from the last seq with the
 * last declared view; when that comes back incomplete (more than 1,000
 * arrivals missed), page again where the reader was and declare that page's
 * view, replaying what landed in between. One `resync` event either way.
 */
import type { ScrollbackClient } from "./socket-client.ts";
import { type ResyncEvent, ScrollbackError, type ViewState } from "./types.ts";
import { MessageWindow } from "./window.ts";

/** Messages each side of the anchor when an incomplete resume pages again. */
const REPAGE_SIDE = 100;
/** Declarations tried before the page is handed over as it is. */
const ATTEMPTS = 4;

/** The `resync` event for a client back after a drop, having applied up to `since`. */
export async function resync(
  client: Pick<ScrollbackClient, "page" | "resume">,
  view: ViewState,
  since: number,
): Promise<ResyncEvent> {
  const resumed = await client.resume({ since, ...view });
  if (!resumed.complete) return repage(client, view);
  const { complete: _complete, ...rest } = resumed;
  return { complete: true, since, ...rest };
}

/**
 * A page around the first message of `view` (an `id` anchor keeps the
 * reader's place), or the newest messages when the view was live (the
 * reader's place is the bottom), had no first message, or that message is
 * gone; declared with `resume` since the page's `seq` and brought up to date
 * with the replay.
 */
export async function repage(
  client: Pick<ScrollbackClient, "page" | "resume">,
  view: ViewState,
): Promise<Extract<ResyncEvent, { complete: false }>> {
  const byId = view.first && !view.live ? { id: view.first.id } : undefined;
  for (let attempt = 1; ; attempt++) {
    let page = byId
      ? await client.page({ anchor: byId, before: 0, after: REPAGE_SIDE }).catch((err) => {
          if (err instanceof ScrollbackError && err.code === "not_found") return undefined;
          throw err;
        })
      : undefined;
    page ??= await client.page({ anchor: "newest", before: REPAGE_SIDE, after: 0 });
    const live = view.live && !page.hasNewer;
    const window = new MessageWindow().replace(page, { live });
    const resumed = await client.resume({ since: page.seq, ...window.declare() });
    if (window.applyResumed(resumed).complete || attempt >= ATTEMPTS) {
      const state = window.snapshot();
      return {
        complete: false,
        page: {
          messages: [...state.messages],
          start: state.start,
          total: state.total,
          hasOlder: state.start > 0,
          hasNewer: state.start + state.messages.length < state.total,
          seq: state.seq,
        },
        live,
        lateUnread: resumed.lateUnread,
        reactionsUnread: resumed.reactionsUnread,
        unread: resumed.unread,
        total: state.total,
        seq: state.seq,
      };
    }
  }
}
