import type { Command } from "./command.js";
import { certCommand } from "./commands/cert.js";
import { importSettingsCommand } from "./commands/import-settings.js";
import { promoteCommand } from "./commands/promote.js";
import { renderCommand } from "./commands/render.js";
import { sandboxCommand } from "./commands/sandbox-up.js";
import { exportCommand } from "./commands/export.js";
import { validateCommand } from "./commands/validate.js";
import { planCommand } from "./commands/plan.js";
import { applyCommand } from "./commands/apply.js";
import { stateCommand } from "./commands/state.js";
import { showCommand } from "./commands/show.js";

/** Every command stsorg offers, in the order `--help` lists them. Each lives in src/cli/commands/. */
export const commands: Command[] = [planCommand, applyCommand, showCommand, exportCommand, validateCommand, certCommand, renderCommand, promoteCommand, importSettingsCommand, sandboxCommand, stateCommand];
