/**
 * A plain HTTP client for the end-to-end tests, written against PROTOCOL.md
 * (not the scripts' client), and the shapes it reads.
 */

import type { Key, PageBody, WireMessage } from "../support/wire.ts";

export type { Key, WireMessage };
/** A page, as the HTTP API answers it. */
export type Page = PageBody;

export interface Stats {
  channel: string;
  total: number;
  lateTotal: number;
  oldest: Key | null;
  newest: Key | null;
}

/** The page size the walks use: PROTOCOL.md's largest `after`. */
const MAX_SIDE = 200;

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
export async function allMessages(base: string, channel: string): Promise<WireMessage[]> {
  const out: WireMessage[] = [];
  for (;;) {
    const p = await page(base, channel, `anchor=pos:${out.length}&before=0&after=${MAX_SIDE}`);
    if (p.total === 0) return out;
    if (p.start !== out.length) throw new Error(`page at ${out.length} started at ${p.start}`);
    out.push(...p.messages);
    if (!p.hasNewer) return out;
  }
}

/** (ts, id) order of PROTOCOL.md: ts, then id by UTF-16 code unit (JS string order). */
export function compareKeys(a: Key, b: Key): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
