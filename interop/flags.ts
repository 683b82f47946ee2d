/**
 * Command-line flags as the gRPC interop programs take them (grpc-go's `flag` package):
 * `--name=value` or `--name value`, a single dash works too; a boolean flag alone means
 * true and also takes `=true` / `=false`. Unknown flags and bad values are errors, so a
 * typo never silently runs the wrong test.
 */

export interface BoolFlag { readonly kind: "bool"; readonly default: boolean; readonly help: string }
export interface IntFlag { readonly kind: "int"; readonly default: number; readonly help: string }
export interface StringFlag { readonly kind: "string"; readonly default: string; readonly help: string }
export type FlagSpec = Readonly<Record<string, BoolFlag | IntFlag | StringFlag>>;

export type FlagValues<S extends FlagSpec> = {
  -readonly [K in keyof S]: S[K] extends BoolFlag ? boolean : S[K] extends IntFlag ? number : string;
};

export class FlagError extends Error {
  override readonly name = "FlagError";
}

const trueWords = new Set(["1", "t", "true"]);
const falseWords = new Set(["0", "f", "false"]);

/** Parses `argv` (without node and script) against `spec`; throws FlagError on anything unknown or malformed. */
export function parseFlags<S extends FlagSpec>(spec: S, argv: readonly string[]): FlagValues<S> {
  const values: Record<string, boolean | number | string> = {};
  for (const [name, flag] of Object.entries(spec)) values[name] = flag.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--?([A-Za-z0-9_]+)(?:=(.*))?$/s.exec(arg);
    if (match === null) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = match[1]!;
    const flag = spec[name];
    if (flag === undefined) throw new FlagError(`unknown flag --${name}`);
    let text = match[2];
    if (flag.kind === "bool") {
      if (text === undefined) {
        values[name] = true;
        continue;
      }
      const word = text.toLowerCase();
      if (trueWords.has(word)) values[name] = true;
      else if (falseWords.has(word)) values[name] = false;
      else throw new FlagError(`--${name} takes true or false, got ${JSON.stringify(text)}`);
      continue;
    }
    if (text === undefined) {
      text = argv[++i];
      if (text === undefined) throw new FlagError(`--${name} needs a value`);
    }
    if (flag.kind === "int") {
      if (!/^-?\d+$/.test(text)) throw new FlagError(`--${name} takes an integer, got ${JSON.stringify(text)}`);
      values[name] = Number(text);
    } else {
      values[name] = text;
    }
  }
  return values as FlagValues<S>;
}

/** One line per flag, for usage messages. */
export function describeFlags(spec: FlagSpec): string {
  return Object.entries(spec)
    .map(([name, flag]) => `  --${name}${flag.kind === "bool" ? "" : `=${flag.kind.toUpperCase()}`}  ${flag.help} (default ${JSON.stringify(flag.default)})`)
    .join("\n");
}

/** Parses flags for a command-line program: on a FlagError prints it with the usage and exits with code 2. */
export function parseFlagsOrExit<S extends FlagSpec>(spec: S, argv: readonly string[], usage: string): FlagValues<S> {
  try {
    return parseFlags(spec, argv);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    console.error(`${err.message}\n\nusage: ${usage} [flags]\n${describeFlags(spec)}`);
    process.exit(2);
  }
}
