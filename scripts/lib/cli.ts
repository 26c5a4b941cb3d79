/**
 * Command-line flags for every script, one way: `--help` prints the usage and
 * exits 0; an unknown or malformed flag, or a value the script rejects, prints
 * the problem and the usage to stderr and exits 2, never a stack trace.
 */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

/** One flag: parseArgs' own config plus a line of help. */
export type CliOption = (
  | { type: "string"; default?: string }
  | { type: "boolean"; default?: boolean }
) & { readonly hint: string; readonly short?: string };

export interface CliSpec<O extends Record<string, CliOption>> {
  /** How to call it, e.g. `npm run seed -- [flags]`. */
  readonly usage: string;
  /** What it does, in a sentence. */
  readonly summary: string;
  readonly options: O;
}

type Values<O extends Record<string, CliOption>> = {
  [K in keyof O]: O[K] extends { type: "boolean" }
    ? O[K] extends { default: boolean }
      ? boolean
      : boolean | undefined
    : O[K] extends { default: string }
      ? string
      : string | undefined;
};

export interface Cli<O extends Record<string, CliOption>> {
  readonly values: Values<O>;
  /** Rejects a flag's value: prints `message` and the usage, exits 2. */
  fail(message: string): never;
}

/** The usage text: the call, the summary, and each flag with its default. */
export function usageOf(spec: CliSpec<Record<string, CliOption>>): string {
  const flags = Object.entries(spec.options).map(([name, option]) => {
    const flag = `--${name}${option.type === "string" ? " <value>" : ""}`;
    const fallback =
      option.type === "string" && option.default !== undefined
        ? ` (default ${option.default})`
        : "";
    return `  ${flag.padEnd(24)} ${option.hint}${fallback}`;
  });
  return [
    `Usage: ${spec.usage}`,
    "",
    spec.summary,
    "",
    ...flags,
    `  ${"--help".padEnd(24)} print this and exit`,
  ].join("\n");
}

/** Parses `argv` (default: this process's flags) against the spec; see the module comment. */
export function cli<const O extends Record<string, CliOption>>(
  spec: CliSpec<O>,
  argv: readonly string[] = process.argv.slice(2),
): Cli<O> {
  const usage = usageOf(spec);
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n\n${usage}\n`);
    process.exit(2);
  };
  const options: ParseArgsOptionsConfig = { help: { type: "boolean", short: "h" } };
  for (const [name, { hint: _hint, ...config }] of Object.entries(spec.options)) {
    options[name] = config;
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    // parseArgs' messages name the flag ("Unknown option '--x'"); its stack says nothing more.
    return fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return { values: values as unknown as Values<O>, fail };
}

/** An integer flag within [min, max], or the script stops with its usage. */
export function intFlag(
  fail: (message: string) => never,
  name: string,
  value: string,
  min: number,
  max: number,
): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    fail(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}
