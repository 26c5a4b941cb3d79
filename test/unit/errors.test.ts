import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  describeIssues,
  ERROR_STATUS,
  errorBody,
  ProtocolError,
  toErrorInfo,
} from "../../src/protocol/errors.ts";
import { ErrorCodeSchema, InsertBody } from "../../src/protocol/schemas.ts";
import { STATUS_OF } from "../support/wire.ts";

const issuesOf = (schema: z.ZodType, value: unknown): z.ZodError => {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`accepted ${JSON.stringify(value)}`);
  return result.error;
};

describe("ERROR_STATUS", () => {
  it("maps each code of docs/protocol.md to its HTTP status", () => {
    expect(ERROR_STATUS).toStrictEqual(STATUS_OF);
  });

  it("covers the same closed set of codes as the error frame schema", () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual([...ErrorCodeSchema.options].sort());
  });
});

describe("errorBody", () => {
  it("wraps code and message, and nothing else", () => {
    const err = new ProtocolError("not_found", "no message m-1");
    expect(errorBody(err)).toStrictEqual({
      error: { code: "not_found", message: "no message m-1" },
    });
  });
});

describe("toErrorInfo", () => {
  it("passes a ProtocolError through", () => {
    for (const code of Object.keys(ERROR_STATUS) as (keyof typeof ERROR_STATUS)[]) {
      expect(toErrorInfo(new ProtocolError(code, `about ${code}`))).toStrictEqual({
        code,
        message: `about ${code}`,
      });
    }
  });

  it("hides everything else behind internal, details included", () => {
    const secret = "SQLITE_CORRUPT at /var/db/secret.sqlite";
    const thrown: unknown[] = [
      new Error(secret),
      new TypeError(secret),
      Object.assign(new Error(secret), { code: "bad_request" }),
      { code: "not_found", message: secret }, // shaped like one, but not a ProtocolError
      secret,
      undefined,
      null,
      42,
    ];
    for (const err of thrown) {
      const info = toErrorInfo(err);
      expect(info).toStrictEqual({ code: "internal", message: "internal error" });
      expect(JSON.stringify(info)).not.toContain("secret");
    }
  });
});

describe("describeIssues", () => {
  it("names the first failing field with dots and brackets", () => {
    const body = { messages: [{ text: "a" }, { text: "b" }, { text: "c" }, { text: "" }] };
    expect(describeIssues(issuesOf(InsertBody, body))).toMatchInlineSnapshot(
      `"messages[3].text: must be 1–4000 UTF-16 code units long"`,
    );
    const nested = z.object({ a: z.object({ b: z.array(z.object({ c: z.string() })) }) });
    expect(
      describeIssues(issuesOf(nested, { a: { b: [{ c: "x" }, { c: 1 }] } })),
    ).toMatchInlineSnapshot(`"a.b[1].c: Invalid input: expected string, received number"`);
  });

  it("starts with an index when the value itself is an array", () => {
    const list = z.array(z.object({ id: z.string() }));
    expect(describeIssues(issuesOf(list, [{ id: "a" }, {}]))).toMatchInlineSnapshot(
      `"[1].id: Invalid input: expected string, received undefined"`,
    );
  });

  it("gives the bare message when the value itself is wrong", () => {
    expect(describeIssues(issuesOf(z.string(), 5))).toMatchInlineSnapshot(
      `"Invalid input: expected string, received number"`,
    );
  });

  it("reports only the first of several issues", () => {
    const pair = z.object({ x: z.int(), y: z.int() });
    expect(describeIssues(issuesOf(pair, { x: "1", y: "2" }))).toMatch(/^x: /);
  });

  it("says invalid input when there is no issue", () => {
    expect(describeIssues(new z.ZodError([]))).toBe("invalid input");
  });
});
