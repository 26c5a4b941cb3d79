/**
 * Mints an HS256 access token for local use (PROTOCOL.md, "Access").
 *
 *   npm run token -- --user alice --channel general --scope write [--ttl 3600] [--secret S]
 *
 * The secret comes from --secret, else AUTH_SECRET in the environment, else
 * AUTH_SECRET in .dev.vars (what `wrangler dev` reads).
 */
import { readFileSync } from "node:fs";
import { sign } from "hono/jwt";
import { Claims } from "../src/protocol/access.ts";
import { cli, intFlag } from "./lib/cli.ts";

const { values, fail } = cli({
  usage: "npm run token -- --user alice [--channel general] [--scope read|write|admin] [flags]",
  summary: "Mints an HS256 access token (JWT) for a worker with AUTH_SECRET.",
  options: {
    user: { type: "string", hint: "the token's subject (sub), required" },
    channel: { type: "string", default: "*", hint: "the channel it grants (ch), or *" },
    scope: { type: "string", default: "read", hint: "read, write or admin" },
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

const secret = values.secret ?? process.env.AUTH_SECRET ?? devVarsSecret();
const key =
  secret ?? fail("No secret: pass --secret, set AUTH_SECRET, or put AUTH_SECRET=… in .dev.vars");
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
