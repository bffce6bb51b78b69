
/** Where apply reports progress. Formatting is pure (below); sinks only decide when to print. */
export interface ProgressSink {
  update(p: ProgressSnapshot): void;
  /** A line worth keeping (a retry, an interrupt). */
  note(line: string): void;
  finish(p: ProgressSnapshot): void;
}

export interface ProgressSnapshot {
  /** Changes to carry out, writes and adoptions. */
  total: number;
  /** Finished in any way (written, adopted, failed, skipped). */
  done: number;
  failed: number;
  skipped: number;
  inFlight: number;
  /** ms since the run started. */
  elapsedMs: number;
}

export const nullProgress: ProgressSink = { update: () => undefined, note: () => undefined, finish: () => undefined };

/** Remaining time from the rate so far; undefined until something has finished. */
export function estimateEtaMs(p: ProgressSnapshot): number | undefined {
  if (p.done === 0 || p.elapsedMs <= 0) return undefined;
  return Math.round(((p.total - p.done) * p.elapsedMs) / p.done);
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

function counts(p: ProgressSnapshot): string {
  const parts = [`${p.done}/${p.total}`];
  if (p.inFlight > 0) parts.push(`${p.inFlight} in flight`);
  if (p.failed > 0) parts.push(`${p.failed} failed`);
  if (p.skipped > 0) parts.push(`${p.skipped} skipped`);
  return parts.join(", ");
}

function eta(p: ProgressSnapshot): string {
  const e = estimateEtaMs(p);
  return e === undefined ? "ETA --:--" : `ETA ${formatDuration(e)}`;
}

/** One line for logs: `Applying: 1200/30000 (4%), 8 in flight, elapsed 1:05, ETA 26:00`. */
export function formatProgressLine(p: ProgressSnapshot): string {
  const pct = p.total === 0 ? 100 : Math.floor((p.done * 100) / p.total);
  const [first, ...rest] = counts(p).split(", ");
  return `Applying: ${first} (${pct}%)${rest.length ? ", " + rest.join(", ") : ""}, elapsed ${formatDuration(p.elapsedMs)}, ${eta(p)}`;
}

/** A bar fitted to `width` columns: `[=====>     ] 1200/30000, 8 in flight  ETA 26:00`. */
export function formatProgressBar(p: ProgressSnapshot, width: number): string {
  const tail = ` ${counts(p)}  ${eta(p)}`;
  const barWidth = Math.max(10, Math.min(50, width - tail.length - 3));
  const filled = p.total === 0 ? barWidth : Math.floor((p.done * barWidth) / p.total);
  const bar = filled >= barWidth ? "=".repeat(barWidth) : "=".repeat(filled) + ">" + " ".repeat(barWidth - filled - 1);
  return `[${bar}]${tail}`;
}

/** A text stream (stderr in the CLI). */
export interface ProgressStream {
  write(chunk: string): void;
  isTTY: boolean;
  columns?: number;
}

export interface StreamProgressOptions {
  /** Non-TTY: a line this often (default 5 s). */
  intervalMs?: number;
  /** TTY: redraw at most this often (default 100 ms). */
  redrawMs?: number;
  now?: () => number;
}

/**
 * A sink on a stream: a redrawn bar on a terminal; otherwise a progress line every few seconds from a
 * timer (so a CI log shows the run is alive even while a slow write is retried) and a last one at the end.
 */
export function streamProgress(stream: ProgressStream, opts: StreamProgressOptions = {}): ProgressSink {
  const now = opts.now ?? Date.now;
  const tty = stream.isTTY;
  let latest: { p: ProgressSnapshot; at: number } | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;
  const current = (): ProgressSnapshot | undefined =>
    latest && { ...latest.p, elapsedMs: latest.p.elapsedMs + (now() - latest.at) };
  const drawBar = (p: ProgressSnapshot) => {
    stream.write("\r\x1b[K" + formatProgressBar(p, stream.columns ?? 80));
    drawn = true;
  };
  return {
    update(p) {
      latest = { p, at: now() };
      if (tty) {
        const t = now();
        if (t - lastDraw < (opts.redrawMs ?? 100)) return;
        lastDraw = t;
        drawBar(p);
      } else if (timer === undefined) {
        timer = setInterval(() => {
          const c = current();
          if (c) stream.write(formatProgressLine(c) + "\n");
        }, opts.intervalMs ?? 5_000);
        timer.unref();
      }
    },
    note(line) {
      if (tty && drawn) stream.write("\r\x1b[K");
      drawn = false;
      stream.write(line + "\n");
    },
    finish(p) {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      if (tty) {
        drawBar(p);
        stream.write("\n");
      } else {
        stream.write(formatProgressLine(p) + "\n");
      }
      drawn = false;
    },
  };
}
