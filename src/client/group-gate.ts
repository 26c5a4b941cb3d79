/**
 * Which of a socket's frames a window applies (docs/protocol.md, "Applying
 * pushes to a window"). After each stored group a socket gets `insert`,
 * `remove`, `update` and `status`, each at most once, in that order, all
 * carrying the group's `seq`. A frame whose `seq` is above the window's
 * opens a group; frames of that `seq` continue it until its `status` (a
 * group of edits and reactions alone mostly has none; one may have no
 * `insert`); every other frame (of a closed group, or read by a page
 * already: seq ≤ the page's) is in what the window holds and is ignored.
 * So each frame applies exactly once, the `remove` and `update` that follow
 * a group's `insert` included. Pure.
 */
export class GroupGate {
  /** The seq of the last frame applied. */
  seq = 0;
  /** Every group up to this seq is applied whole: what a reconnect resumes from. */
  resumeFrom = 0;
  /** Set between a page that replaced the window (or a declaration) and the `resumed` that declared it. */
  frozen = false;
  /** The group `seq` may still have frames to come (no `status` yet). */
  #open = false;

  /**
   * Is a frame of `seq` to be applied? Yes for the rest of the group in
   * progress (even frozen: a declaration's reply does not replay it), and
   * for a newer group unless frozen; that one becomes the group in progress.
   */
  accept(seq: number): boolean {
    if (seq === this.seq && this.#open) return true;
    if (this.frozen || seq <= this.seq) return false;
    this.seq = seq;
    this.#open = true;
    return true;
  }

  /** A page read at `seq` (a jump, or grown into): every group up to it is in it. */
  paged(seq: number, frozen: boolean): void {
    this.#open = false;
    this.seq = this.resumeFrom = seq;
    this.frozen = frozen;
  }

  /** The group in progress got its `status`: it is whole. */
  closed(): void {
    this.#open = false;
    this.resumeFrom = this.seq;
  }

  /** A view declared by `resume { since: seq }`: newer groups wait for the reply. */
  declared(): void {
    this.frozen = true;
    this.resumeFrom = this.seq;
  }

  /** The `resumed` reply (at `seq` when complete): groups apply again. */
  resumed(seq?: number): void {
    this.frozen = false;
    this.#open = false;
    if (seq !== undefined) this.seq = this.resumeFrom = Math.max(this.seq, seq);
  }
}
