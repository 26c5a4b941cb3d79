/**
 * The Scrollback client library: everything a frontend imports.
 *
 * - {@link ScrollbackClient}: one channel over a WebSocket; resumes by itself.
 * - {@link ScrollbackHttp}: the HTTP API, typed.
 * - {@link MessageWindow}: a pure window model a virtual list renders from;
 *   {@link ChannelWindow} keeps one current from a client.
 */

/** Key order of the protocol: ts, then id by UTF-16 code unit (JavaScript's `<`). */
export { compareKeys } from "../core/key.ts";
export type {
  Anchor,
  Change,
  ChangedFrame,
  ChangeOutcome,
  ChangeResult,
  ChangesReply,
  HelloFrame,
  InsertFrame,
  Key,
  LateItem,
  Message,
  NewMessage,
  PageBody,
  Reaction,
  ReactionsItem,
  RemoveFrame,
  SentFrame,
  StatusFrame,
  UpdateFrame,
} from "../protocol/schemas.ts";
export { ChannelWindow, type ChannelWindowOptions, type OpenOptions } from "./channel-window.ts";
export {
  type CallOptions,
  type HttpOptions,
  ScrollbackHttp,
  type TimelineRequest,
} from "./http.ts";
export { ScrollbackClient, type Sides } from "./socket-client.ts";
export * from "./types.ts";
export { MessageWindow } from "./window.ts";
export {
  type DeclaredView,
  FIRST_ITEM_INDEX,
  type PageLike,
  type ResumeOutcome,
  type WindowState,
} from "./window-rows.ts";
