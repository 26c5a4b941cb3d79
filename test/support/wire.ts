/**
 * The wire shapes as PROTOCOL.md writes them, for tests that must not take
 * them from the code under test.
 */

export interface Key {
  readonly ts: number;
  readonly id: string;
}

export interface WireMessage {
  id: string;
  ts: number;
  author: string;
  text: string;
  seq: number;
  late: boolean;
  /** In a `page` over a socket. */
  unread?: true;
  /** In an `insert` push. */
  position?: number;
}

export interface PageBody {
  messages: WireMessage[];
  start: number;
  total: number;
  anchorIndex?: number;
  hasOlder: boolean;
  hasNewer: boolean;
  /** Protocol 1.1: the channel's latest arrival seq when the page was read. */
  seq: number;
}

/** The error codes of PROTOCOL.md and their statuses, written out independently of src/. */
export const STATUS_OF = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
} as const;
