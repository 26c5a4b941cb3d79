/**
 * Mints an HS256 access token for local use (PROTOCOL.md, "Access").
 *
 *   npm run token -- --user alice --channel general --scope write [--ttl 3600] [--secret S]
 *
 * The secret comes from --secret, else AUTH_SECRET in the environment, else
 * AUTH_SECRET in .dev.vars (what `wrangler dev` reads).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { sign } from "hono/jwt";
import { Claims } from "../src/protocol/access.ts";

const { values } = parseArgs({
  options: {
    user: { type: "string" },
    channel: { type: "string", default: "*" },
    scope: { type: "string", default: "read" },
    ttl: { type: "string", default: "86400" },
    secret: { type: "string" },
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
if (!secret) {
  console.error("No secret: pass --secret, set AUTH_SECRET, or put AUTH_SECRET=… in .dev.vars");
  process.exit(2);
}
const ttl = Number(values.ttl);
const claims = Claims.safeParse({
  sub: values.user,
  ch: values.channel,
  scope: values.scope,
  ...(ttl > 0 ? { exp: Math.floor(Date.now() / 1000) + ttl } : {}),
});
if (!claims.success) {
  console.error(
    `Invalid claims: ${claims.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
  );
  console.error(
    "Usage: npm run token -- --user alice --channel general --scope read|write|admin [--ttl seconds]",
  );
  process.exit(2);
}
const { exp, ...rest } = claims.data;
console.log(await sign(exp === undefined ? rest : { ...rest, exp }, secret, "HS256"));
