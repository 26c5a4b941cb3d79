/**
 * The scripts as a user runs them: `--help` prints the usage and exits 0; a
 * bad flag or value prints the problem and the usage and exits 2, with no
 * stack trace; token mints what the worker's verifier accepts, for every
 * scope; fix-lockfile writes exactly what npm writes.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/lib/server.ts";
import { authenticate, authorize } from "../../src/auth.ts";

const NODE = join(ROOT, "node_modules", ".bin", "node");
const SCRIPTS = ["start", "seed", "bench", "token", "fix-lockfile"];

function run(script: string, args: string[], cwd = ROOT) {
  const result = spawnSync(NODE, [join(ROOT, "scripts", `${script}.ts`), ...args], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, AUTH_SECRET: "" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A Node stack frame: what a user must never see for a mistyped flag. */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

// Each run starts a Node that strips types and loads the script: seconds on a busy machine.
describe("scripts", { timeout: 60_000 }, () => {
  it.each(SCRIPTS)("%s --help prints its usage and exits 0", (script) => {
    const { status, stdout, stderr } = run(script, ["--help"]);
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    expect(stdout).toMatch(/^Usage: npm (start|run [a-z-]+)/);
    expect(stdout).toContain("--help");
  });

  it.each(SCRIPTS)("%s with an unknown flag prints the usage and exits 2", (script) => {
    const { status, stdout, stderr } = run(script, ["--no-such-flag"]);
    expect({ status, stdout }).toEqual({ status: 2, stdout: "" });
    expect(stderr).toContain("--no-such-flag");
    expect(stderr).toContain("Usage:");
    expect(stderr).not.toMatch(STACK);
  });

  it("rejects a bad value with the usage, exit 2", () => {
    for (const [script, args] of [
      ["token", ["--user", "alice", "--secret", "s", "--ttl", "soon"]],
      ["token", ["--user", "alice", "--secret", "s", "--scope", "root"]],
      ["token", ["--user", "alice", "--secret", "s", "--scope", "mod"]],
      // An empty AUTH_SECRET (the runs' environment) and no .dev.vars here: no key to sign with.
      ["token", ["--user", "alice"]],
      ["seed", ["--count", "-5"]],
      ["start", ["--port", "http"]],
      ["bench", ["--parts", "reads,nope"]],
      ["bench", ["--audiences", "100,-1"]],
      ["bench", ["--max-sockets", "0"]],
    ] as const) {
      const { status, stderr } = run(script, [...args]);
      expect({ script, status }).toEqual({ script, status: 2 });
      expect(stderr).toContain("Usage:");
      expect(stderr).not.toMatch(STACK);
    }
  });

  it("token mints every scope, moderate included, as a token the worker accepts at that scope only", async () => {
    // The protocol's order, written out here (not imported): moderate sits between write and admin.
    const order = ["read", "write", "moderate", "admin"] as const;
    expect(run("token", ["--help"]).stdout).toContain(order.join(" < "));
    let checks = 0;
    for (const [rank, scope] of order.entries()) {
      const args = ["--user", "mod-1", "--channel", "general", "--secret", "s3", "--ttl", "600"];
      const { status, stdout, stderr } = run("token", [...args, "--scope", scope]);
      expect({ scope, status, stderr }).toEqual({ scope, status: 0, stderr: "" });
      const principal = await authenticate("s3", stdout.trim());
      expect(principal).toMatchObject({ user: "mod-1", channel: "general", scope });
      const now = Date.now() / 1000;
      expect(principal.exp).toBeGreaterThan(now + 500);
      expect(principal.exp).toBeLessThanOrEqual(now + 600);
      await expect(authenticate("other", stdout.trim())).rejects.toThrow();
      for (const [needed, asked] of order.entries()) {
        const allowed = () => authorize(principal, "general", asked);
        if (needed <= rank) expect(allowed).not.toThrow();
        else expect(allowed).toThrow(/scope/);
        checks++;
      }
    }
    console.log(`token: ${order.length} scopes minted and verified, ${checks} scope checks`);
  });

  it("fix-lockfile restores the platform entries npm drops, byte for byte as npm writes them", () => {
    const npmWritten = readFileSync(join(ROOT, "package-lock.json"), "utf8");
    const lock = JSON.parse(npmWritten) as { packages: Record<string, Record<string, unknown>> };
    // What npm leaves when the registry serves only this machine's binaries: no hashless entries.
    let dropped = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (entry.optional && entry.os && !entry.integrity) {
        delete lock.packages[path];
        dropped++;
      }
    }
    expect(dropped).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), "scrollback-lock-"));
    writeFileSync(join(dir, "package-lock.json"), `${JSON.stringify(lock, null, 2)}\n`);
    const { status, stdout } = run("fix-lockfile", [], dir);
    expect(status).toBe(0);
    expect(stdout).toContain(`added ${dropped} platform entries`);
    expect(readFileSync(join(dir, "package-lock.json"), "utf8")).toBe(npmWritten);
  });
});
