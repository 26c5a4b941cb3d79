/** Reading a whole channel over the HTTP API, whichever project's fetch carries it. */
import type { PageBody, WireMessage } from "./wire.ts";

/** docs/protocol.md's largest `after`: the walk's page size. */
const MAX_SIDE = 200;

/**
 * Every message of a channel in key order, walking pages from position 0;
 * `getPage` answers the body of `GET …/messages?<query>` (failing on errors).
 */
export async function walkMessages(
  getPage: (query: string) => Promise<PageBody>,
): Promise<WireMessage[]> {
  const out: WireMessage[] = [];
  for (;;) {
    const p = await getPage(`anchor=pos:${out.length}&before=0&after=${MAX_SIDE}`);
    if (p.total === 0) return out;
    if (p.start !== out.length) throw new Error(`the page at ${out.length} started at ${p.start}`);
    out.push(...p.messages);
    if (!p.hasNewer) return out;
  }
}
