import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeIssues } from "../../src/protocol/errors.ts";
import {
  type Anchor,
  AnchorQuery,
  ChannelName,
  PageQuery,
  TimelineQuery,
} from "../../src/protocol/schemas.ts";
import { codeUnitString } from "./model.ts";

/** The grammar `newest|oldest|id:<id>|pos:<n>|ts:<ms>`, written out by hand. */
function modelAnchor(raw: string): Anchor | undefined {
  if (raw === "newest" || raw === "oldest") return raw;
  for (const kind of ["id", "pos", "ts"] as const) {
    if (!raw.startsWith(`${kind}:`)) continue;
    const value = raw.slice(kind.length + 1);
    if (kind === "id") {
      const ok = value.length >= 1 && value.length <= 64 && value.isWellFormed();
      return ok ? { id: value } : undefined;
    }
    // An optionally signed decimal integer without leading zeros, safe in a double.
    if (!/^-?(0|[1-9][0-9]*)$/.test(value)) return undefined;
    const n = Number(value);
    if (!Number.isSafeInteger(n)) return undefined;
    return kind === "pos" ? { position: n } : { ts: n };
  }
  return undefined;
}

const anchorMessage = (raw: string): string | undefined => {
  const result = AnchorQuery.safeParse(raw);
  return result.success ? undefined : describeIssues(result.error);
};

describe("AnchorQuery", () => {
  it("parses each anchor form of the page query", () => {
    const cases: [string, Anchor][] = [
      ["newest", "newest"],
      ["oldest", "oldest"],
      ["id:m-1f3a", { id: "m-1f3a" }],
      ["id:a:b", { id: "a:b" }],
      ["id:\u{1F600}", { id: "\u{1F600}" }],
      ["pos:0", { position: 0 }],
      ["pos:499975", { position: 499_975 }],
      ["pos:-3", { position: -3 }],
      ["ts:1795480000000", { ts: 1_795_480_000_000 }],
      ["ts:-1", { ts: -1 }],
      [`ts:${Number.MAX_SAFE_INTEGER}`, { ts: Number.MAX_SAFE_INTEGER }],
    ];
    for (const [raw, anchor] of cases) expect(AnchorQuery.parse(raw)).toStrictEqual(anchor);
  });

  it("rejects what is not in the grammar, with one message", () => {
    const bad = [
      "pos:abc",
      "foo",
      "id:",
      "",
      "pos:",
      "ts:",
      "pos:1.5",
      "pos:01",
      "pos:+1",
      "ts:1e3",
      "ts: 1",
      "Newest",
      "newest ",
      ":5",
      "position:5",
      "pos:9007199254740993", // 16 digits, but not a safe integer
      "pos:12345678901234567", // 17 digits
      `id:${"x".repeat(65)}`,
      `id:${"\u{1F600}".repeat(33)}`, // 33 characters, but 66 UTF-16 code units
      "id:\uD800",
    ];
    for (const raw of bad) {
      expect(anchorMessage(raw), JSON.stringify(raw)).toBe(
        "must be newest, oldest, first_unread, id:<id>, pos:<n> or ts:<ms>",
      );
    }
  });

  it("agrees with a hand-written grammar on generated queries", () => {
    const digits = fc.oneof(
      fc.integer({ min: -1e6, max: 1e6 }).map(String),
      fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }).map(String),
      fc.stringMatching(/^[-+]?[0-9]{0,18}(\.[0-9])?$/),
    );
    const raw = fc.oneof(
      fc.constantFrom("newest", "oldest", "id", "pos", "ts"),
      fc
        .tuple(
          fc.constantFrom("id:", "pos:", "ts:", "ID:", "pos", ":", "x:", ""),
          fc.oneof(
            digits,
            codeUnitString(70),
            fc.string({ maxLength: 70 }),
            fc.string({ unit: "binary", minLength: 30, maxLength: 70 }),
          ),
        )
        .map(([prefix, value]) => prefix + value),
    );
    fc.assert(
      fc.property(raw, (query) => {
        const result = AnchorQuery.safeParse(query);
        const expected = modelAnchor(query);
        if (expected === undefined) expect(result.success).toBe(false);
        else expect(result.success && result.data).toStrictEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("PageQuery", () => {
  it("fills anchor newest and before and after 25", () => {
    expect(PageQuery.parse({})).toStrictEqual({ anchor: "newest", before: 25, after: 25 });
    expect(PageQuery.parse({ anchor: "pos:10", before: "0", after: "200" })).toStrictEqual({
      anchor: { position: 10 },
      before: 0,
      after: 200,
    });
  });

  it("rejects sides that are not plain integers in 0..200, and ignores unknown parameters", () => {
    const message = (query: Record<string, string>) => {
      const result = PageQuery.safeParse(query);
      return result.success ? "accepted" : describeIssues(result.error);
    };
    expect(message({ before: "201" })).toMatchInlineSnapshot(
      `"before: Too big: expected number to be <=200"`,
    );
    expect(message({ after: "-1" })).toMatchInlineSnapshot(`"after: must be an integer"`);
    for (const side of ["1.5", "abc", "", "007", "+3", " 3", "1e2", "0x10"]) {
      expect(message({ before: side }), side).toMatch(/^before: /);
    }
    expect(message({ anchor: "pos:abc" })).toMatchInlineSnapshot(
      `"anchor: must be newest, oldest, first_unread, id:<id>, pos:<n> or ts:<ms>"`,
    );
    // Cache busters and the like: ignored, as the README says.
    expect(message({ limit: "5", _: "1700000000" })).toBe("accepted");
  });
});

describe("TimelineQuery", () => {
  it("takes 2 to 1,000 points and nothing else", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 1500 }), (n) => {
        const result = TimelineQuery.safeParse({ points: String(n) });
        expect(result.success).toBe(n >= 2 && n <= 1000);
        if (result.success) expect(result.data).toStrictEqual({ points: n, exact: true });
      }),
      { numRuns: 500 },
    );
    const message = (query: Record<string, string>) => {
      const result = TimelineQuery.safeParse(query);
      return result.success ? "accepted" : describeIssues(result.error);
    };
    expect(message({ points: "1" })).toMatchInlineSnapshot(
      `"points: Too small: expected number to be >=2"`,
    );
    expect(message({ points: "1001" })).toMatchInlineSnapshot(
      `"points: Too big: expected number to be <=1000"`,
    );
    // README: no points, the default (100).
    expect(TimelineQuery.parse({})).toEqual({ points: 100, exact: true });
    expect(message({ points: "2.5" })).toMatchInlineSnapshot(`"points: must be an integer"`);
  });

  it("takes exact=true or exact=false (the bucket-start extension), exact by default", () => {
    expect(TimelineQuery.parse({ points: "7", exact: "false" })).toStrictEqual({
      points: 7,
      exact: false,
    });
    expect(TimelineQuery.parse({ exact: "true" })).toStrictEqual({ points: 100, exact: true });
    expect(TimelineQuery.parse({ limit: "3" })).toStrictEqual({ points: 100, exact: true });
    for (const raw of ["", "False", "TRUE", "0", "1", "no", "yes", "false ", " true"]) {
      const result = TimelineQuery.safeParse({ exact: raw });
      expect(result.success ? "accepted" : describeIssues(result.error), raw).toBe(
        "exact: must be true or false",
      );
    }
  });
});

describe("ChannelName", () => {
  it("takes 1 to 64 of A-Z a-z 0-9 . _ -", () => {
    const model = (name: string) => name.length >= 1 && name.length <= 64 && /^[\w.-]*$/.test(name);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.stringMatching(/^[A-Za-z0-9._-]{0,70}$/),
          fc.string({ maxLength: 70 }),
          fc.constantFrom("a", "x".repeat(64), "x".repeat(65), "a/b", "a b", "é", "a\n"),
        ),
        (name) => {
          expect(ChannelName.safeParse(name).success).toBe(model(name));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
