import type { Command } from "./command.js";
import { promoteCommand } from "./commands/promote.js";

/** Every command stsorg offers, in the order `--help` lists them. Each lives in src/cli/commands/. */
export const commands: Command[] = [promoteCommand];
