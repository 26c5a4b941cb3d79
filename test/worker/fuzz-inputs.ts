/**
 * What the fuzz tests generate (fuzz-ws.test.ts, fuzz-http.test.ts): values
 * valid and tricky, one-field mutations of valid inputs, messages and
 * protocol 1.2's changes; and how a property is run so that a failure
 * reports the seed and path that replay it.
 */
import fc from "fast-check";
import type { Json } from "./oracle.ts";

/** Each fuzz test makes at least this many inputs a run. */
export const MIN_INPUTS = 10_000;

/** The seeded messages: m00000… at ts 1,000,000 + i·1,000, by "seed". */
export const SEEDED = 40;
export const BASE_TS = 1_000_000;
export const seededId = (i: number) => `m${String(i).padStart(5, "0")}`;
export const EMOJI = "\u{1F600}";

/**
 * Runs a property body, rethrowing a failure as an error whose text is
 * well-formed: values with lone surrogates in a vitest diff break the pool's
 * report of the failure (invalid UTF-8), so they are written as JSON instead.
 */
export function reported<A extends unknown[]>(body: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await body(...args);
    } catch (err) {
      const e = err as { message?: unknown; actual?: unknown; expected?: unknown };
      const json = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 6_000);
      const detail =
        "actual" in e || "expected" in e
          ? `\n  actual: ${json(e.actual)}\nexpected: ${json(e.expected)}`
          : "";
      throw new Error(`${String(e.message ?? err)}${detail}`.toWellFormed());
    }
  };
}

/**
 * Checks a property, failing with a short message: the seed and path that
 * replay it, the start of the counterexample and the failure (a hundred
 * frames in full would bury it).
 */
export async function holds<Ts extends [unknown, ...unknown[]]>(
  property: fc.IAsyncProperty<Ts>,
  numRuns: number,
): Promise<void> {
  const out = await fc.check(property, { numRuns, endOnFailure: true });
  if (!out.failed) return;
  const cause = out.errorInstance instanceof Error ? out.errorInstance.message : out.errorInstance;
  const example = fc.stringify(out.counterexample).slice(0, 1_500);
  throw new Error(
    `property failed at run ${out.numRuns} (seed ${out.seed}, path "${out.counterexamplePath}")\n${cause}\ncounterexample (start): ${example}`.toWellFormed(),
  );
}

// ── Values ─────────────────────────────────────────────────────────────────

/** Ids: a small pool (duplicates across runs), the seeded ones, any Unicode, edges. */
export const idArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 299 }).map((n) => `p${n}`) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: SEEDED - 1 }).map(seededId) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 32 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      EMOJI.repeat(32), // 64 code units: the longest id
      "x".repeat(64),
      "\uffff", // after U+1F600 by code unit, before it by code point
      "\u{10000}",
      "\u0000",
      "e\u0301",
      "é",
    ),
  },
);

/**
 * A generated ts in [FRESH_MARK, FRESH_MARK + 1,000) stands for "now": just
 * before it is sent it becomes FRESH_BASE + 1,000 · (inputs sent so far) +
 * the offset, so such messages keep arriving at the bottom (on time) while
 * the others land among older ones (late). A fixed range could not: its
 * maximum soon makes every later message late.
 */
export const FRESH_MARK = 777_777_000;
export const FRESH_BASE = 5_000_000_000_000;

/** `text` with its marked timestamps made fresh, when it is JSON with some. */
export function freshen(text: string, clock: number): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text;
  }
  let changed = false;
  const walk = (v: unknown): void => {
    if (typeof v !== "object" || v === null) return;
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      const ts = o[key];
      if (key === "ts" && typeof ts === "number" && ts >= FRESH_MARK && ts < FRESH_MARK + 1_000) {
        o[key] = FRESH_BASE + clock * 1_000 + (ts - FRESH_MARK);
        changed = true;
      } else {
        walk(ts);
      }
    }
  };
  walk(json);
  // Unchanged texts go as generated (spacing, repeated keys and all).
  return changed ? JSON.stringify(json) : text;
}

/** Message timestamps: fresh ones (on time), around the seeded ones (late), far before. */
export const sendTsArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: FRESH_MARK, max: FRESH_MARK + 999 }) },
  { weight: 8, arbitrary: fc.integer({ min: BASE_TS - 20_000, max: BASE_TS + 3_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(BASE_TS, BASE_TS + 1_000, 0, -1) },
  { weight: 1, arbitrary: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: 0 }) },
);
/** Timestamps of anchors and view keys: anything safe. */
export const anyTsArb = fc.oneof(
  { weight: 4, arbitrary: sendTsArb },
  { weight: 1, arbitrary: fc.maxSafeInteger() },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER) },
);
export const textArb = fc.oneof(
  { weight: 10, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("x".repeat(4_000), EMOJI.repeat(2_000), "a\u0000b", " "),
  },
);
export const authorArb = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 32 }),
  fc.constantFrom("a".repeat(64), EMOJI.repeat(32)),
);
export const ridArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 9_999 }).map((n) => `r${n}`) },
  { weight: 1, arbitrary: fc.constantFrom("", "x".repeat(64), EMOJI.repeat(32), "\ud800-lone") },
);
export const sideArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 200) },
);

/** Values a broken field gets: wrong types, out of range, too long, lone surrogates, huge. */
export const TRICKY: readonly Json[] = [
  null,
  true,
  false,
  "",
  "NaN",
  "Infinity",
  "-1",
  "25",
  "1e3",
  " 1",
  1.5,
  -1,
  -0.5,
  0,
  1,
  200,
  201,
  1_000,
  1_001,
  4_001,
  65,
  1e21,
  2 ** 53,
  -(2 ** 53),
  2 ** 53 - 1,
  1e308,
  -1e308,
  5e-324,
  [],
  {},
  [1],
  { a: 1 },
  "x".repeat(64),
  "x".repeat(65),
  "x".repeat(4_000),
  "x".repeat(4_001),
  EMOJI.repeat(32),
  `${EMOJI.repeat(32)}x`,
  EMOJI.repeat(2_000),
  `${EMOJI.repeat(2_000)}x`,
  "\ud800",
  "a\udc00",
  `${EMOJI}\ud83d`,
  "newest",
  "Newest",
  "oldest",
  { id: "p1" },
  { position: 3 },
  { position: -3 },
  { ts: 1 },
  { id: "p1", ts: 1 },
  { ts: BASE_TS, id: "m00001" },
  "send",
  "page",
  "view",
  "late.next",
  "late.list",
  "late.ack",
  "ping",
  "PING",
  "late_ack",
  "read",
  "reactions.next",
  "reactions.list",
  "reactions.ack",
  "first_unread",
  "First_unread",
  "change",
  "edit",
  "delete",
  "react",
  "Edit",
  "\u0000",
];
export const wrongValueArb: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 70 }) },
);

// ── Mutations: one field broken ────────────────────────────────────────────

export interface Mutation {
  readonly at: number;
  readonly action: "replace" | "delete" | "extra";
  readonly key: string;
  readonly value: Json;
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  action: fc.constantFrom("replace", "replace", "delete", "extra"),
  key: fc.oneof(
    fc.constantFrom("extra", "rid", "type", "id", "ts", "text", "author", "anchor", "seq"),
    fc.constantFrom("kind", "emoji", "on", "changes", "user"),
    fc.string({ maxLength: 8 }),
  ),
  value: wrongValueArb,
});

export type Container = Json[] | { [key: string]: Json };

export function containers(value: Json, out: Container[] = []): Container[] {
  if (typeof value !== "object" || value === null) return out;
  out.push(value);
  for (const child of Object.values(value)) containers(child, out);
  return out;
}

/** A deep copy of `value` with one field replaced, deleted or added. */
export function mutate(value: Json, m: Mutation): Json {
  const root = structuredClone(value);
  const all = containers(root);
  const slots: { c: Container; key: string | number }[] = all.flatMap(
    (c): { c: Container; key: string | number }[] =>
      Array.isArray(c)
        ? c.map((_, i) => ({ c, key: i }))
        : Object.keys(c).map((key) => ({ c, key })),
  );
  const slot = slots[m.at % Math.max(1, slots.length)];
  if (m.action === "extra" || !slot) {
    const target = all[m.at % Math.max(1, all.length)];
    if (Array.isArray(target)) target.push(m.value);
    else if (target) {
      // Defined, not assigned: a key like "__proto__" becomes a field, as JSON.parse makes it.
      Object.defineProperty(target, m.key, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return root;
  }
  const { c, key } = slot;
  if (Array.isArray(c)) {
    if (m.action === "delete") c.splice(key as number, 1);
    else c[key as number] = m.value;
  } else if (m.action === "delete") {
    delete c[key as string];
  } else {
    c[key as string] = m.value;
  }
  return root;
}

export const broken = (valid: fc.Arbitrary<Json>) =>
  fc
    .tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 2 }))
    .map(([v, ms]) => ms.reduce(mutate, v));

// ── Messages and changes ───────────────────────────────────────────────────

export const messageArb = (authorRequired: boolean) =>
  fc.record(
    { id: idArb, ts: sendTsArb, author: authorArb, text: textArb },
    { requiredKeys: authorRequired ? ["id", "ts", "author", "text"] : ["id", "ts", "text"] },
  );

/** Change clocks: small, so that ties, wins and losses all happen often. */
const changeTsArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER) },
);
const emojiArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("👍", "🎉", "a", "\uffff") },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom("x".repeat(32), EMOJI.repeat(16)) },
);
/** Protocol 1.2: an edit, a delete or a reaction of an id of the pool (sent or not yet). */
const changeArb: fc.Arbitrary<Json> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("react"),
      id: idArb,
      emoji: emojiArb,
      on: fc.boolean(),
      ts: changeTsArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("edit"), id: idArb, text: textArb, ts: changeTsArb }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete"), id: idArb }) },
);
/** 1–4 changes; now and then the first again at the end, an exact repeat: `stale` (held or stored). */
export const changesArb = fc
  .tuple(fc.array(changeArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 3 }))
  .map(([changes, again]) => (again === 0 ? [...changes, changes[0] as Json] : changes));
