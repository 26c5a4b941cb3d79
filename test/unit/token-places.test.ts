/**
 * Where a request carries its token (src/auth.ts `tokenOf`, docs/protocol.md "A
 * token without the URL"): every combination of an Authorization header, the
 * offered subprotocols and `?token=` against a model — the distinct non-empty
 * tokens found; one is the token, two or more are `unauthorized`.
 */
import { describe, expect, it } from "vitest";
import { tokenOf } from "../../src/auth.ts";
import { offeredSubprotocols } from "../../src/protocol/subprotocol.ts";

const A = "aaa.bbb.ccc";
const B = "ddd.eee.fff";

/** Authorization headers and the token each carries, by RFC 6750's bearer scheme. */
const HEADERS: [string | undefined, string | undefined][] = [
  [undefined, undefined],
  [`Bearer ${A}`, A],
  [`bearer   ${B} `, B],
  ["Bearer", undefined],
  ["Bearer ", undefined],
  [`Basic ${A}`, undefined],
  [A, undefined],
];
/** Sec-WebSocket-Protocol headers and the tokens they carry. */
const OFFERS: [string | null, string[]][] = [
  [null, []],
  ["scrollback", []],
  [`scrollback, bearer.${A}`, [A]],
  [`bearer.${B},scrollback`, [B]],
  [` scrollback ,  bearer.${A} , bearer.${A}`, [A, A]],
  [`scrollback, bearer.${A}, bearer.${B}`, [A, B]],
  ["scrollback, bearer.", []],
  [`scrollback, Bearer.${A}, x-bearer.${B}`, []],
  [",,scrollback,", []],
];
const QUERIES: (string | undefined)[] = [undefined, "", A, B];

describe("tokenOf", () => {
  it("takes the one token wherever it is and refuses two different ones", () => {
    let checks = 0;
    for (const [authorization, fromHeader] of HEADERS) {
      for (const [offer, fromOffer] of OFFERS) {
        for (const query of QUERIES) {
          const found = new Set([fromHeader, ...fromOffer, query].filter((t) => t));
          const places = { authorization, subprotocols: offeredSubprotocols(offer), query };
          const label = JSON.stringify(places);
          if (found.size > 1) {
            expect(() => tokenOf(places), label).toThrow(
              expect.objectContaining({ code: "unauthorized" }),
            );
          } else {
            expect(tokenOf(places), label).toBe([...found][0]);
          }
          checks++;
        }
      }
    }
    console.log(`tokenOf: ${checks} combinations checked`);
    expect(checks).toBe(HEADERS.length * OFFERS.length * QUERIES.length);
  });

  it("never repeats a token in its error", () => {
    const places = { authorization: `Bearer ${A}`, subprotocols: [`bearer.${B}`], query: A };
    expect(() => tokenOf(places)).toThrow(
      expect.objectContaining({ message: expect.not.stringMatching(/aaa|ddd/) }),
    );
  });
});

describe("offeredSubprotocols", () => {
  it("splits a header's list, trimmed, without empty entries", () => {
    expect(offeredSubprotocols(" scrollback ,bearer.x.y.z,, ")).toEqual([
      "scrollback",
      "bearer.x.y.z",
    ]);
    expect(offeredSubprotocols(null)).toEqual([]);
    expect(offeredSubprotocols("")).toEqual([]);
  });
});
