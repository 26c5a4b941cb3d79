import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RID_PARSE_LIMIT, readFrame } from "../../src/protocol/frame-reader.ts";
import { MAX_FRAME_BYTES } from "../../src/protocol/schemas.ts";

const NOW = 1_795_480_000_000;
const open = { admitted: true, now: NOW };

/** The refusal's code and rid, or "ok" with the frame's type. */
function verdict(raw: string | ArrayBuffer, context: Parameters<typeof readFrame>[1] = open) {
  const reading = readFrame(raw, context);
  return reading.ok
    ? { ok: reading.frame.type }
    : { code: reading.error.code, rid: reading.rid, message: reading.error.message };
}

describe("readFrame", () => {
  it("reads a valid frame with its defaults", () => {
    expect(readFrame('{"type":"page","rid":"r1"}', open)).toStrictEqual({
      ok: true,
      frame: { type: "page", rid: "r1", anchor: "newest", before: 25, after: 25 },
    });
  });

  it("refuses a frame over budget before validating it, echoing its rid", () => {
    // Even a frame that would be invalid is refused as rate_limited, not bad_request.
    expect(verdict('{"type":"nope","rid":"r2"}', { admitted: false, now: NOW })).toMatchObject({
      code: "rate_limited",
      rid: "r2",
    });
    expect(verdict("{not json", { admitted: false, now: NOW })).toMatchObject({
      code: "rate_limited",
      rid: undefined,
    });
  });

  it("refuses binary frames as bad_request", () => {
    expect(verdict(new ArrayBuffer(4))).toMatchObject({ code: "bad_request", rid: undefined });
  });

  it("refuses frames over the size limit as too_large, echoing the rid up to twice the limit", () => {
    const padded = (n: number) => `{"type":"ping","rid":"big","pad":"${"x".repeat(n)}"}`;
    expect(verdict(padded(MAX_FRAME_BYTES))).toMatchObject({ code: "too_large", rid: "big" });
    expect(verdict(padded(RID_PARSE_LIMIT))).toMatchObject({ code: "too_large", rid: undefined });
    // Bytes, not code units: 400,000 three-byte characters are 1.2 MB.
    const wide = `{"type":"ping","pad":"${"\u20ac".repeat(400_000)}"}`;
    expect(wide.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(verdict(wide)).toMatchObject({ code: "too_large" });
  });

  it("refuses invalid JSON, and frames after the token's expiry, with their rid when readable", () => {
    expect(verdict("{not json")).toMatchObject({ code: "bad_request", message: "invalid JSON" });
    const exp = NOW / 1000;
    expect(verdict('{"type":"ping","rid":"late"}', { ...open, exp })).toMatchObject({
      code: "unauthorized",
      rid: "late",
    });
    expect(verdict('{"type":"ping"}', { ...open, exp: exp + 1 })).toStrictEqual({ ok: "ping" });
  });

  it("echoes a rid only when it is a string of at most 64 code units", () => {
    expect(verdict(`{"type":"x","rid":"${"r".repeat(64)}"}`)).toMatchObject({
      rid: "r".repeat(64),
    });
    expect(verdict(`{"type":"x","rid":"${"r".repeat(65)}"}`)).toMatchObject({ rid: undefined });
    expect(verdict('{"type":"x","rid":7}')).toMatchObject({ rid: undefined });
    expect(verdict('[{"rid":"r"}]')).toMatchObject({ code: "bad_request", rid: undefined });
  });

  it("never throws, whatever the text, and refuses with a code of the protocol", () => {
    let checks = 0;
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.boolean(), (text, admitted) => {
        const reading = readFrame(text, { admitted, now: NOW });
        if (!reading.ok) {
          expect(["bad_request", "rate_limited"]).toContain(reading.error.code);
          expect(reading.error.message).not.toBe("");
        }
        checks++;
      }),
      { numRuns: 2_000 },
    );
    console.log(`frame reader: ${checks} arbitrary texts read without a throw`);
  });
});
