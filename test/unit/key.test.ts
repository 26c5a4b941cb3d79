import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareKeys,
  decodeId,
  encodeId,
  firstKeyAt,
  type Key,
  lowerBound,
  MAX_KEY,
  MIN_KEY,
  upperBound,
} from "../../src/core/key.ts";
import { compareUnits, compareKeys as modelCompare } from "../support/keys.ts";
import { codeUnitString, trickyId, trickyKey } from "./model.ts";

/** UTF-16BE bytes from Node's own UTF-16LE encoder, byte-swapped. */
const utf16be = (id: string): Buffer => Buffer.from(id, "utf16le").swap16();

describe("compareKeys", () => {
  it("orders by ts before looking at the id", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), trickyId(1), trickyId(1), (t1, t2, a, b) => {
        fc.pre(t1 !== t2);
        expect(Math.sign(compareKeys({ ts: t1, id: a }, { ts: t2, id: b }))).toBe(
          Math.sign(t1 - t2),
        );
      }),
    );
  });

  it("orders equal ts by UTF-16 code unit, shorter prefix first", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.oneof(trickyId(), codeUnitString()),
        fc.oneof(trickyId(), codeUnitString()),
        (ts, a, b) => {
          expect(Math.sign(compareKeys({ ts, id: a }, { ts, id: b }))).toBe(compareUnits(a, b));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("puts an astral character below U+E000..U+FFFF, unlike code point order", () => {
    const astral = { ts: 1, id: "\u{1F600}" }; // D83D DE00
    const privateUse = { ts: 1, id: "\uE000" };
    const last = { ts: 1, id: "\uFFFF" };
    expect(compareKeys(astral, privateUse)).toBeLessThan(0);
    expect(compareKeys(astral, last)).toBeLessThan(0);
    expect(compareKeys(privateUse, astral)).toBeGreaterThan(0);
    // Code point order would say the opposite.
    expect((astral.id.codePointAt(0) ?? 0) > (privateUse.id.codePointAt(0) ?? 0)).toBe(true);
  });

  it("returns zero exactly for equal keys and is antisymmetric", () => {
    fc.assert(
      fc.property(trickyKey, trickyKey, (a, b) => {
        const ab = compareKeys(a, b);
        expect(ab === 0).toBe(a.ts === b.ts && a.id === b.id);
        expect(Math.sign(compareKeys(b, a))).toBe(ab === 0 ? 0 : -Math.sign(ab));
      }),
      { numRuns: 500 },
    );
  });

  it("sorts a list exactly as the model order does", () => {
    fc.assert(
      fc.property(fc.array(trickyKey, { maxLength: 60 }), (keys) => {
        const bySrc = [...keys].sort(compareKeys);
        const byModel = [...keys].sort(modelCompare);
        expect(bySrc).toEqual(byModel);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps MIN_KEY below and MAX_KEY above every real key", () => {
    const realKey = fc.record({
      ts: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      id: fc.oneof(
        trickyId(1),
        codeUnitString(64).filter((s) => s.length > 0),
      ),
    });
    fc.assert(
      fc.property(realKey, (key) => {
        expect(compareKeys(MIN_KEY, key)).toBeLessThan(0);
        expect(compareKeys(key, MIN_KEY)).toBeGreaterThan(0);
        expect(compareKeys(key, MAX_KEY)).toBeLessThan(0);
        expect(compareKeys(MAX_KEY, key)).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
    const extremes: Key[] = [
      { ts: Number.MIN_SAFE_INTEGER, id: "\u0000" },
      { ts: Number.MAX_SAFE_INTEGER, id: "\uFFFF".repeat(64) },
    ];
    for (const key of extremes) {
      expect(compareKeys(MIN_KEY, key)).toBeLessThan(0);
      expect(compareKeys(key, MAX_KEY)).toBeLessThan(0);
    }
  });
});

describe("firstKeyAt", () => {
  it("sorts after every key of an earlier ts and not after any key of its ts", () => {
    fc.assert(
      fc.property(trickyKey, fc.integer({ min: -2, max: 2 }), (key, ts) => {
        const first = firstKeyAt(ts);
        if (key.ts < ts) expect(compareKeys(key, first)).toBeLessThan(0);
        else expect(compareKeys(first, key)).toBeLessThan(0); // key.id is non-empty
      }),
    );
  });
});

describe("encodeId", () => {
  it("writes UTF-16BE code units, two bytes each", () => {
    fc.assert(
      fc.property(fc.oneof(codeUnitString(64), fc.string({ unit: "binary" }), trickyId()), (id) => {
        const bytes = encodeId(id);
        expect(bytes.length).toBe(2 * id.length);
        expect(Buffer.from(bytes).equals(utf16be(id))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("encodes the known bytes of a lone surrogate and an astral character", () => {
    expect([...encodeId("A\uD800\u{1F600}")]).toEqual([
      0x00, 0x41, 0xd8, 0x00, 0xd8, 0x3d, 0xde, 0x00,
    ]);
    expect([...encodeId("")]).toEqual([]);
  });

  it("round-trips through decodeId, lone surrogates and astral characters included", () => {
    fc.assert(
      fc.property(fc.oneof(codeUnitString(64), fc.string({ unit: "binary" }), trickyId()), (id) => {
        expect(decodeId(encodeId(id))).toBe(id);
      }),
      { numRuns: 500 },
    );
    for (const id of ["\uD800", "\uDC00x", "x\uDBFF", "\uDC00\uD800", "\u{10FFFF}", "\u0000"]) {
      expect(decodeId(encodeId(id))).toBe(id);
    }
  });

  it("has a byte order (memcmp, shorter prefix first) equal to the key order of ids", () => {
    fc.assert(
      fc.property(
        fc.oneof(trickyId(), codeUnitString(6)),
        fc.oneof(trickyId(), codeUnitString(6)),
        (a, b) => {
          const memcmp = Math.sign(
            Buffer.compare(Buffer.from(encodeId(a)), Buffer.from(encodeId(b))),
          );
          expect(memcmp).toBe(Math.sign(compareKeys({ ts: 0, id: a }, { ts: 0, id: b })));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("lowerBound and upperBound", () => {
  interface Row {
    readonly key: Key;
  }
  const sortedRows = fc
    .uniqueArray(trickyKey, {
      maxLength: 40,
      selector: (k) => `${k.ts}|${k.id}`,
    })
    .map((keys) => [...keys].sort(modelCompare).map((key): Row => ({ key })));

  it("count the elements below, and not above, the probe", () => {
    fc.assert(
      fc.property(sortedRows, fc.array(trickyKey, { maxLength: 10 }), (rows, probes) => {
        const allProbes = [...probes, ...rows.map((r) => r.key), MIN_KEY, MAX_KEY];
        for (const probe of allProbes) {
          const below = rows.filter((r) => modelCompare(r.key, probe) < 0).length;
          const notAbove = rows.filter((r) => modelCompare(r.key, probe) <= 0).length;
          expect(lowerBound(rows, probe, (r) => r.key)).toBe(below);
          expect(upperBound(rows, probe, (r) => r.key)).toBe(notAbove);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("answer 0 on an empty list", () => {
    expect(lowerBound([], { ts: 1, id: "a" }, (k: Key) => k)).toBe(0);
    expect(upperBound([], { ts: 1, id: "a" }, (k: Key) => k)).toBe(0);
  });
});
