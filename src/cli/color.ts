import type { OutputStream } from "./io.js";

/**
 * Colour only on a terminal, as the Node ecosystem expects: `--no-color` and `NO_COLOR` (any value)
 * turn it off, `FORCE_COLOR` (other than "0"/"false") turns it on even without a TTY.
 */
export function useColor(stream: OutputStream, env: Record<string, string | undefined>, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force !== "false";
  return stream.isTTY;
}
