/**
 * How long a pending group of writes waits for more (group commit, see
 * channel/writer.ts). A lone writer waits for nothing: its group is flushed
 * on the next timer tick. When the last group had several writers, the next
 * one waits, at most MAX_GROUP_WAIT_MS, until those writers are back: writers
 * that each await their reply answer within a moment of each other, and one
 * commit for all of them beats one commit each.
 */

/** The longest a write waits for its group: bounds the latency grouping adds. */
export const MAX_GROUP_WAIT_MS = 4;

export class GroupWait<Source> {
  #expected: ReadonlySet<Source> = new Set();

  /** Milliseconds a group whose writers so far are `sources` should still wait. */
  delay(sources: ReadonlySet<Source>): number {
    for (const s of this.#expected) if (!sources.has(s)) return MAX_GROUP_WAIT_MS;
    return 0;
  }

  /** Records a flushed group's writers: the next group expects them, when they were several. */
  flushed(sources: ReadonlySet<Source>): void {
    this.#expected = sources.size > 1 ? new Set(sources) : new Set();
  }
}
