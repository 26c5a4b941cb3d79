/**
 * docs/protocol.md's input rules, written out independently of src/protocol: which
 * WebSocket frames, HTTP queries and bodies are valid and, for a valid one,
 * what it asks for (defaults applied). The fuzz tests judge every generated
 * input here and compare the server's answer with the verdict. Where
 * docs/protocol.md leaves a choice open, the README's choice is written down here
 * (and named where it is one).
 */

import type { SimulatorSettings } from "../support/simulator.ts";
import type { Anchor, Change, Key, NewMessage } from "../support/wire.ts";

export const MAX_SIDE = 200;
export const DEFAULT_SIDE = 25;
export const MAX_NAME = 64;
export const MAX_TEXT = 4_000;
export const MAX_SEND_FRAME = 1_000;
export const MAX_SEND_HTTP = 10_000;
export const MAX_LATE_LIST = 100;
export const DEFAULT_LATE_LIST = 20;
export const MAX_RID = 64;
/** Protocol 1.2: most changes a frame or body carries, longest emoji. */
export const MAX_CHANGES = 1_000;
export const MAX_EMOJI = 32;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Record_ = Record<string, unknown>;

const isRecord = (v: unknown): v is Record_ =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const has = (o: Record_, key: string) => Object.hasOwn(o, key);
const safeInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const intIn = (v: unknown, lo: number, hi: number): v is number => safeInt(v) && v >= lo && v <= hi;

/** 1–max UTF-16 code units, no lone surrogates (README: strings must be well-formed). */
export const units = (v: unknown, max: number): v is string =>
  typeof v === "string" && v.length >= 1 && v.length <= max && v.isWellFormed();

/** A channel or user name: 1–64 of `[A-Za-z0-9._-]`. */
export const validName = (v: string) => /^[A-Za-z0-9._-]{1,64}$/.test(v);

// ── WebSocket frames ───────────────────────────────────────────────────────

/** A valid client frame, defaults applied. */
export type Call =
  | { type: "page"; rid?: string; anchor: Anchor; before: number; after: number }
  | { type: "view"; rid?: string; first: Key | null; last: Key | null; live: boolean }
  | { type: "send"; rid?: string; messages: NewMessage[] }
  | { type: "late.next"; rid?: string; before: number; after: number }
  | { type: "late.list"; rid?: string; limit: number }
  | { type: "late.ack"; rid?: string }
  | { type: "change"; rid?: string; changes: Change[] }
  | { type: "reactions.next"; rid?: string; before: number; after: number }
  | { type: "reactions.list"; rid?: string; limit: number }
  | { type: "reactions.ack"; rid?: string }
  | { type: "read"; rid?: string; id: string }
  | { type: "ping"; rid?: string };

export type FrameVerdict =
  | { readonly ok: true; readonly call: Call }
  /** A `bad_request` error frame, echoing `rid` when the frame carried a usable one. */
  | { readonly ok: false; readonly rid?: string };

function anchorOf(v: unknown): Anchor | undefined {
  if (v === "newest" || v === "oldest" || v === "first_unread") return v;
  if (!isRecord(v)) return undefined;
  const keys = Object.keys(v);
  // An object anchor has exactly one of id, position, ts: anything more is ambiguous.
  if (keys.length !== 1) return undefined;
  if (keys[0] === "id" && units(v.id, MAX_NAME)) return { id: v.id };
  if (keys[0] === "position" && safeInt(v.position)) return { position: v.position };
  if (keys[0] === "ts" && safeInt(v.ts)) return { ts: v.ts };
  return undefined;
}

/** A key; extra fields are fine (README: a whole message may be passed). */
function keyOf(v: unknown): Key | undefined {
  if (!isRecord(v) || !safeInt(v.ts) || !units(v.id, MAX_NAME)) return undefined;
  return { ts: v.ts, id: v.id };
}

function messageOf(v: unknown, authorRequired: boolean): NewMessage | undefined {
  if (!isRecord(v) || !units(v.text, MAX_TEXT)) return undefined;
  const m: NewMessage = { text: v.text };
  if (has(v, "id")) {
    if (!units(v.id, MAX_NAME)) return undefined;
    m.id = v.id;
  }
  if (has(v, "ts")) {
    if (!safeInt(v.ts)) return undefined;
    m.ts = v.ts;
  }
  if (has(v, "author")) {
    if (!units(v.author, MAX_NAME)) return undefined;
    m.author = v.author;
  } else if (authorRequired) {
    return undefined;
  }
  return m;
}

function messagesOf(v: unknown, max: number, authorRequired: boolean): NewMessage[] | undefined {
  if (!Array.isArray(v) || v.length < 1 || v.length > max) return undefined;
  const out: NewMessage[] = [];
  for (const item of v) {
    const m = messageOf(item, authorRequired);
    if (!m) return undefined;
    out.push(m);
  }
  return out;
}

/**
 * Protocol 1.2: a change — `{ kind: "edit", id, text, ts }`, `{ kind:
 * "delete", id }` or `{ kind: "react", id, emoji, on, ts }`; extra fields
 * ignored.
 */
function changeOf(v: unknown): Change | undefined {
  if (!isRecord(v) || !units(v.id, MAX_NAME)) return undefined;
  const { id } = v;
  switch (v.kind) {
    case "edit":
      return units(v.text, MAX_TEXT) && safeInt(v.ts)
        ? { kind: "edit", id, text: v.text, ts: v.ts }
        : undefined;
    case "delete":
      return { kind: "delete", id };
    case "react":
      return units(v.emoji, MAX_EMOJI) && typeof v.on === "boolean" && safeInt(v.ts)
        ? { kind: "react", id, emoji: v.emoji, on: v.on, ts: v.ts }
        : undefined;
    default:
      return undefined;
  }
}

/** 1–1,000 changes, every one valid: a frame or body is all or nothing. */
function changesOf(v: unknown): Change[] | undefined {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_CHANGES) return undefined;
  const out: Change[] = [];
  for (const item of v) {
    const c = changeOf(item);
    if (!c) return undefined;
    out.push(c);
  }
  return out;
}

/** An optional integer field in [lo, hi]; `null` when present and invalid. */
function optionalInt(o: Record_, key: string, lo: number, hi: number, fallback: number) {
  if (!has(o, key)) return fallback;
  const v = o[key];
  return intIn(v, lo, hi) ? v : null;
}

/** Judges a decoded frame as docs/protocol.md's WebSocket section does. */
export function judgeFrame(json: unknown): FrameVerdict {
  if (!isRecord(json)) return { ok: false };
  const ridValue = json.rid;
  const ridOk = !has(json, "rid") || (typeof ridValue === "string" && ridValue.length <= MAX_RID);
  const rid = has(json, "rid") && ridOk ? { rid: ridValue as string } : {};
  const bad: FrameVerdict = { ok: false, ...rid };
  if (!ridOk) return bad;
  switch (json.type) {
    case "page": {
      const anchor = has(json, "anchor") ? anchorOf(json.anchor) : "newest";
      const before = optionalInt(json, "before", 0, MAX_SIDE, DEFAULT_SIDE);
      const after = optionalInt(json, "after", 0, MAX_SIDE, DEFAULT_SIDE);
      if (anchor === undefined || before === null || after === null) return bad;
      return { ok: true, call: { type: "page", ...rid, anchor, before, after } };
    }
    case "view": {
      if (!has(json, "first") || !has(json, "last") || typeof json.live !== "boolean") return bad;
      const first = json.first === null ? null : keyOf(json.first);
      const last = json.last === null ? null : keyOf(json.last);
      if (first === undefined || last === undefined) return bad;
      return { ok: true, call: { type: "view", ...rid, first, last, live: json.live } };
    }
    case "send": {
      const messages = messagesOf(json.messages, MAX_SEND_FRAME, false);
      if (!messages) return bad;
      return { ok: true, call: { type: "send", ...rid, messages } };
    }
    case "late.next":
    case "reactions.next": {
      const before = optionalInt(json, "before", 0, MAX_SIDE, DEFAULT_SIDE);
      const after = optionalInt(json, "after", 0, MAX_SIDE, DEFAULT_SIDE);
      if (before === null || after === null) return bad;
      return { ok: true, call: { type: json.type, ...rid, before, after } };
    }
    case "late.list":
    case "reactions.list": {
      const limit = optionalInt(json, "limit", 1, MAX_LATE_LIST, DEFAULT_LATE_LIST);
      if (limit === null) return bad;
      return { ok: true, call: { type: json.type, ...rid, limit } };
    }
    case "late.ack":
    case "reactions.ack":
      return { ok: true, call: { type: json.type, ...rid } };
    case "read":
      return units(json.id, MAX_NAME)
        ? { ok: true, call: { type: "read", ...rid, id: json.id } }
        : bad;
    case "change": {
      const changes = changesOf(json.changes);
      if (!changes) return bad;
      return { ok: true, call: { type: "change", ...rid, changes } };
    }
    case "ping":
      return { ok: true, call: { type: "ping", ...rid } };
    default:
      return bad;
  }
}

/** Judges a text frame as the server receives it (not JSON: bad_request without rid). */
export function judgeText(text: string): FrameVerdict {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  return judgeFrame(json);
}

// ── HTTP ───────────────────────────────────────────────────────────────────

export type QueryVerdict<T> =
  | { readonly ok: true; readonly value: T; readonly unknownKeys: readonly string[] }
  | { readonly ok: false };

const DIGITS = /^(0|[1-9][0-9]*)$/;
const SIGNED = /^-?(0|[1-9][0-9]*)$/;

/** A query integer: plain decimal digits (no sign, spaces, exponent or leading zeros). */
function queryInt(raw: string, signed: boolean): number | undefined {
  if (!(signed ? SIGNED : DIGITS).test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `anchor=newest|oldest|first_unread|id:<id>|pos:<n>|ts:<ms>`. */
export function judgeAnchorQuery(raw: string): Anchor | undefined {
  if (raw === "newest" || raw === "oldest" || raw === "first_unread") return raw;
  const colon = raw.indexOf(":");
  if (colon < 0) return undefined;
  const kind = raw.slice(0, colon);
  const value = raw.slice(colon + 1);
  if (kind === "id") return units(value, MAX_NAME) ? { id: value } : undefined;
  if (kind === "pos" || kind === "ts") {
    const n = queryInt(value, true);
    if (n === undefined) return undefined;
    return kind === "pos" ? { position: n } : { ts: n };
  }
  return undefined;
}

/**
 * The page query; `token` is access, not a parameter; other keys are
 * reported as unknown. Protocol 1.2: `user` (a name) says whose read marker
 * `first_unread` means on an open worker, which needs one.
 */
export function judgePageQuery(
  params: readonly (readonly [string, string])[],
): QueryVerdict<{ anchor: Anchor; before: number; after: number; user?: string }> {
  let anchor: Anchor = "newest";
  let before = DEFAULT_SIDE;
  let after = DEFAULT_SIDE;
  let user: string | undefined;
  const unknownKeys: string[] = [];
  for (const [key, raw] of params) {
    if (key === "user") {
      if (!validName(raw)) return { ok: false };
      user = raw;
    } else if (key === "anchor") {
      const a = judgeAnchorQuery(raw);
      if (a === undefined) return { ok: false };
      anchor = a;
    } else if (key === "before" || key === "after") {
      const n = queryInt(raw, false);
      if (n === undefined || n > MAX_SIDE) return { ok: false };
      if (key === "before") before = n;
      else after = n;
    } else if (key !== "token") {
      unknownKeys.push(key);
    }
  }
  if (anchor === "first_unread" && user === undefined) return { ok: false };
  const named = user === undefined ? {} : { user };
  return { ok: true, value: { anchor, before, after, ...named }, unknownKeys };
}

export const MIN_POINTS = 2;
export const MAX_POINTS = 1_000;
/** README: `timeline` without `points` answers this many. */
const DEFAULT_POINTS = 100;

export function judgeTimelineQuery(
  params: readonly (readonly [string, string])[],
): QueryVerdict<number> {
  let points: number | undefined;
  const unknownKeys: string[] = [];
  for (const [key, raw] of params) {
    if (key === "points") {
      const n = queryInt(raw, false);
      if (n === undefined || n < MIN_POINTS || n > MAX_POINTS) return { ok: false };
      points = n;
    } else if (key !== "token") {
      unknownKeys.push(key);
    }
  }
  return { ok: true, value: points ?? DEFAULT_POINTS, unknownKeys };
}

function parseBody(raw: string): { ok: true; json: unknown } | { ok: false } {
  try {
    return { ok: true, json: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

/**
 * `POST …/messages` on an open worker: `{ messages: [1–10,000 items] }`, extra
 * fields ignored; every item needs an author (README: no signed-in user to
 * default to).
 */
export function judgeInsertBody(raw: string): NewMessage[] | undefined {
  const body = parseBody(raw);
  if (!body.ok || !isRecord(body.json)) return undefined;
  return messagesOf(body.json.messages, MAX_SEND_HTTP, true);
}

/**
 * Protocol 1.2, `POST …/changes` on an open worker: `{ user, changes }`,
 * extra fields ignored; `user` (1–64 of `[A-Za-z0-9._-]`) is required, as
 * nobody is signed in to make the changes.
 */
export function judgeChangesBody(raw: string): { user: string; changes: Change[] } | undefined {
  const body = parseBody(raw);
  if (!body.ok || !isRecord(body.json)) return undefined;
  const { user } = body.json;
  const changes = changesOf(body.json.changes);
  if (typeof user !== "string" || !validName(user) || !changes) return undefined;
  return { user, changes };
}

export { DEFAULT_SIMULATOR, type SimulatorSettings } from "../support/simulator.ts";

/** docs/protocol.md, "Simulator": changes are at most this share of the arrivals, after a PUT is merged. */
export const MAX_CHANGE_SHARE = 0.9;

/** Whether merged settings keep the changes' share within its bound (a hair of slack for binary sums). */
export function changeShareOk(s: SimulatorSettings): boolean {
  return s.editRatio + s.deleteRatio + s.reactRatio <= MAX_CHANGE_SHARE + 1e-9;
}

const finiteIn = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi;

const SIMULATOR_FIELDS: Record<keyof SimulatorSettings, (v: unknown) => boolean> = {
  rate: (v) => finiteIn(v, 0, 5_000),
  lateRatio: (v) => finiteIn(v, 0, 1),
  chunkEvery: (v) => finiteIn(v, 0, 86_400),
  chunkSize: (v) => intIn(v, 1, 10_000),
  seed: (v) => intIn(v, 0, 2 ** 32 - 1),
  tickMs: (v) => intIn(v, 100, 60_000),
  editRatio: (v) => finiteIn(v, 0, 1),
  deleteRatio: (v) => finiteIn(v, 0, 1),
  reactRatio: (v) => finiteIn(v, 0, 1),
};

/**
 * `PUT …/simulator`: an object of any of the README's fields, each in range.
 * An unknown field is refused (a misspelt setting must not pass silently).
 */
export function judgeSimulatorBody(raw: string): Partial<SimulatorSettings> | undefined {
  const body = parseBody(raw);
  if (!body.ok || !isRecord(body.json)) return undefined;
  const out: Partial<SimulatorSettings> = {};
  for (const [key, value] of Object.entries(body.json)) {
    if (!Object.hasOwn(SIMULATOR_FIELDS, key)) return undefined;
    const name = key as keyof SimulatorSettings;
    if (!SIMULATOR_FIELDS[name](value)) return undefined;
    out[name] = value as number;
  }
  return out;
}

/** The routes of docs/protocol.md's HTTP table (plus the bench's `naive` and `bench-stats`, off in tests). */
export type Route =
  | "stats"
  | "page"
  | "insert"
  | "changes"
  | "timeline"
  | "simulator.get"
  | "simulator.put"
  | "simulator.delete"
  | "ws"
  | "naive"
  | "benchStats";

/** The route a method and the path after `/v1/channels/{ch}` name, or undefined (404). */
export function routeOf(method: string, suffix: string): Route | undefined {
  const table: Record<string, Partial<Record<string, Route>>> = {
    "": { GET: "stats" },
    "/messages": { GET: "page", POST: "insert" },
    "/changes": { POST: "changes" },
    "/timeline": { GET: "timeline" },
    "/simulator": { GET: "simulator.get", PUT: "simulator.put", DELETE: "simulator.delete" },
    "/ws": { GET: "ws" },
    "/naive": { GET: "naive" },
    "/bench-stats": { GET: "benchStats" },
  };
  return table[suffix]?.[method];
}
