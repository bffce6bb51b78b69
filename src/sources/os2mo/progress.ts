import type { OutputStream } from "../../cli/io.js";

/**
 * One self-overwriting status line for long reads, only on a terminal (a log file gets nothing).
 * Updates are throttled so a fast read does not flood the terminal.
 */
export class ProgressLine {
  private last = 0;
  private shown = false;

  constructor(
    private readonly stream: OutputStream | undefined,
    private readonly intervalMs = 200,
  ) {}

  update(text: () => string, force = false): void {
    if (!this.stream?.isTTY) return;
    const t = Date.now();
    if (!force && t - this.last < this.intervalMs) return;
    this.last = t;
    const width = Math.max(20, (this.stream.columns ?? 100) - 1);
    this.stream.write(`\r\x1b[2K${text().slice(0, width)}`);
    this.shown = true;
  }

  finish(text?: string): void {
    if (!this.stream?.isTTY || !this.shown) return;
    this.stream.write(`\r\x1b[2K${text ? `${text}\n` : ""}`);
    this.shown = false;
  }
}
