import { parseArgs } from "node:util";
import { isProfileName, PROFILES, type ProfileName } from "./components/all.ts";

export interface StackArgs {
  command: string | undefined;
  names: string[];
  profile: ProfileName;
}

/** `<command> [component ...] [--profile <name>]`; an unknown profile is refused with the known ones. */
export function parseStackArgs(argv: readonly string[]): StackArgs {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { profile: { type: "string" } } });
  const profile = values.profile ?? "default";
  if (!isProfileName(profile)) throw new Error(`unknown profile "${profile}"; known: ${Object.keys(PROFILES).join(", ")}`);
  const [command, ...names] = positionals;
  return { command, names, profile };
}
