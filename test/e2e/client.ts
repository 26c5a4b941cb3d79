/**
 * A plain HTTP client for the end-to-end tests, written against docs/protocol.md
 * (not the scripts' client); shapes, key order and the walk come from the kit.
 */

import { walkMessages } from "../support/http.ts";
import type { PageBody, Stats, WireMessage } from "../support/wire.ts";

export { compareKeys } from "../support/keys.ts";
export type { Key, Stats, WireMessage } from "../support/wire.ts";
/** A page, as the HTTP API answers it. */
export type Page = PageBody;

/** Calls the server and answers its JSON body; fails on any status but 200. */
export async function getJson<T>(base: string, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`${init?.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export function stats(base: string, channel: string): Promise<Stats> {
  return getJson<Stats>(base, `/v1/channels/${channel}`);
}

export function page(base: string, channel: string, query: string): Promise<Page> {
  return getJson<Page>(base, `/v1/channels/${channel}/messages?${query}`);
}

/** Every message of a channel in key order, walking pages from position 0. */
export function allMessages(base: string, channel: string): Promise<WireMessage[]> {
  return walkMessages((query) => page(base, channel, query));
}
