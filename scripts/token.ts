/**
 * Mints an HS256 access token for local use (docs/protocol.md, "Access").
 *
 *   npm run token -- --user alice --channel general --scope write [--ttl 3600] [--secret S]
 *
 * Scopes, each including the ones before: read < write < moderate < admin
 * (`moderate`, protocol 1.2: also deleting anyone's message).
 *
 * The secret comes from --secret, else AUTH_SECRET in the environment, else
 * AUTH_SECRET in .dev.vars (what `wrangler dev` reads).
 */
import { readFileSync } from "node:fs";
import { sign } from "hono/jwt";
import { Claims, SCOPES, Scope } from "../src/protocol/access.ts";
import { cli, intFlag } from "./lib/cli.ts";

const { values, fail } = cli({
  usage: `npm run token -- --user alice [--channel general] [--scope ${SCOPES.join("|")}] [flags]`,
  summary: "Mints an HS256 access token (JWT) for a worker with AUTH_SECRET.",
  options: {
    user: { type: "string", hint: "the token's subject (sub), required" },
    channel: { type: "string", default: "*", hint: "the channel it grants (ch), or *" },
    scope: {
      type: "string",
      default: "read",
      hint: `${SCOPES.join(" < ")} (each includes the ones before)`,
    },
    ttl: { type: "string", default: "86400", hint: "seconds until it expires; 0: never" },
    secret: { type: "string", hint: "the secret (else $AUTH_SECRET, else .dev.vars)" },
  },
});

function devVarsSecret(): string | undefined {
  try {
    return readFileSync(".dev.vars", "utf8").match(/^AUTH_SECRET\s*=\s*"?([^"\n]+)"?/m)?.[1];
  } catch {
    return undefined;
  }
}

// An empty value (AUTH_SECRET="") is no secret: never sign with an empty key.
const secret = values.secret || process.env.AUTH_SECRET || devVarsSecret();
const key =
  secret ?? fail("No secret: pass --secret, set AUTH_SECRET, or put AUTH_SECRET=… in .dev.vars");
// Named here rather than in the claims' error: a mistyped scope is the likeliest mistake.
if (!Scope.safeParse(values.scope).success) {
  fail(`--scope: must be one of ${SCOPES.join(", ")} (got ${JSON.stringify(values.scope)})`);
}
const ttl = intFlag(fail, "ttl", values.ttl, 0, 10 * 365 * 86_400);
const claims = Claims.safeParse({
  sub: values.user,
  ch: values.channel,
  scope: values.scope,
  ...(ttl > 0 ? { exp: Math.floor(Date.now() / 1000) + ttl } : {}),
});
const { exp, ...rest } = claims.success
  ? claims.data
  : fail(
      `Invalid claims: ${claims.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
console.log(await sign(exp === undefined ? rest : { ...rest, exp }, key, "HS256"));
