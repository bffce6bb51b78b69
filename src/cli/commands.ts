import type { Command } from "./command.js";

interface CommandEntry {
  /** The first word of the command, as typed. */
  name: string;
  load: () => Promise<Command>;
}

/**
 * Every command stsorg offers, in the order `--help` lists them. Each lives in src/cli/commands/ and is
 * loaded when needed: together they pull in every library stsorg has (the sandbox's GraphQL server,
 * PostgreSQL, certificates), which is most of a command's start-up time.
 */
const entries: CommandEntry[] = [
  { name: "plan", load: async () => (await import("./commands/plan.js")).planCommand },
  { name: "apply", load: async () => (await import("./commands/apply.js")).applyCommand },
  { name: "show", load: async () => (await import("./commands/show.js")).showCommand },
  { name: "export", load: async () => (await import("./commands/export.js")).exportCommand },
  { name: "validate", load: async () => (await import("./commands/validate.js")).validateCommand },
  { name: "cert", load: async () => (await import("./commands/cert.js")).certCommand },
  { name: "render", load: async () => (await import("./commands/render.js")).renderCommand },
  { name: "promote", load: async () => (await import("./commands/promote.js")).promoteCommand },
  { name: "import-settings", load: async () => (await import("./commands/import-settings.js")).importSettingsCommand },
  { name: "sandbox", load: async () => (await import("./commands/sandbox-up.js")).sandboxCommand },
  { name: "state", load: async () => (await import("./commands/state.js")).stateCommand },
];

/**
 * The commands to offer for `argv`: when its first word names a command, only that one (its options and
 * help are all yargs needs); otherwise all of them, for `--help`, `--version` and suggestions for a typo.
 */
export async function commandsFor(argv: readonly string[]): Promise<Command[]> {
  const named = entries.find((e) => e.name === argv[0]);
  return Promise.all((named ? [named] : entries).map((e) => e.load()));
}
