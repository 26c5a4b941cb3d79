/**
 * `npm run fix-lockfile`: completes package-lock.json for registries that
 * serve only this machine's platform packages (as this workplace's mirror
 * does). npm then leaves other platforms' optional binaries (biome's,
 * workerd's) out of the lock, and `npm ci` rejects the lock it just wrote
 * (npm/cli#9846). This adds the entries npm would have written, minus the
 * tarball hashes it could not fetch; on a matching platform npm fetches them
 * by version. Run it after `npm install` changes the lock.
 *
 * It writes the lock exactly as npm would (entries sorted by path, an entry's
 * keys as npm orders them), so that the next `npm install` rewrites nothing
 * and a fresh clone's `git status` stays clean.
 *
 *   npm run fix-lockfile [-- --lockfile package-lock.json]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cli } from "./lib/cli.ts";

interface LockEntry {
  version?: string;
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optionalDependencies?: Record<string, string>;
}

const { values } = cli({
  usage: "npm run fix-lockfile [-- --lockfile <path>]",
  summary: "Adds other platforms' optional binaries to package-lock.json, as npm writes them.",
  options: { lockfile: { type: "string", default: "package-lock.json", hint: "the lock to fix" } },
});
const PATH = values.lockfile;
const lock = JSON.parse(readFileSync(PATH, "utf8")) as { packages: Record<string, LockEntry> };
const packages = lock.packages;

/** os / cpu / libc from a platform package's name, e.g. cli-linux-arm64-musl. */
function platformOf(name: string): { os: string[]; cpu: string[]; libc?: string[] } | undefined {
  const os = ["android", "darwin", "linux", "freebsd", "win32", "windows"].find((o) =>
    name.includes(o),
  );
  const cpu = /arm64/.test(name) ? "arm64" : /x64|-64$/.test(name) ? "x64" : undefined;
  if (!os || !cpu) return undefined;
  return {
    os: [os === "windows" ? "win32" : os],
    cpu: [cpu],
    ...(name.includes("musl") ? { libc: ["musl"] } : {}),
  };
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  const optional = entry.optionalDependencies ?? {};
  const names = Object.keys(optional);
  // Where this parent's platform packages live: beside one npm did record.
  const dir = path.slice(0, path.lastIndexOf("node_modules/") + "node_modules/".length);
  const candidates = [`${path}/node_modules/`, dir];
  const base = candidates.find((d) => names.some((n) => packages[`${d}${n}`]));
  if (base === undefined) continue;
  for (const name of names) {
    const key = `${base}${name}`;
    const version = optional[name];
    const platform = platformOf(name);
    const existing = packages[key];
    // npm's own entries (with a hash) stay; ours are (re)written in npm's shape.
    if (existing?.integrity || !version || !/^\d+\.\d+\.\d+/.test(version) || !platform) continue;
    if (!existing) added++;
    // npm writes `version` first and these keys alphabetically: cpu, dev, libc, optional, os.
    const { os, cpu, libc } = platform;
    packages[key] = {
      version,
      cpu,
      ...(entry.dev ? { dev: true } : {}),
      ...(libc ? { libc } : {}),
      optional: true,
      os,
    };
  }
}
// npm sorts the entries by path with an English locale comparison (@isaacs/string-locale-compare).
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => a.localeCompare(b, "en")),
);
writeFileSync(PATH, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform entries`);
