/**
 * The outside world as commands see it. Injected so tests run commands in-process and read what they
 * print; `defaultIo()` binds it to the real process.
 */
export interface OutputStream {
  write(chunk: string): void;
  /** True when the stream is a terminal (colour, progress bars). */
  isTTY: boolean;
  columns?: number;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Reads one line from standard input (for confirmation prompts); null when there is no TTY/input. */
  readLine(prompt: string): Promise<string | null>;
  stdinIsTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Current time; injected so tests can fix it. */
  now(): Date;
  /** Registers a handler for SIGINT/SIGTERM; returns a function that removes it. */
  onSignal(handler: (signal: "SIGINT" | "SIGTERM") => void): () => void;
}

export function defaultIo(): CliIo {
  return {
    stdout: {
      write: (s) => void process.stdout.write(s),
      get isTTY() {
        return Boolean(process.stdout.isTTY);
      },
      get columns() {
        return process.stdout.columns;
      },
    },
    stderr: {
      write: (s) => void process.stderr.write(s),
      get isTTY() {
        return Boolean(process.stderr.isTTY);
      },
      get columns() {
        return process.stderr.columns;
      },
    },
    stdinIsTTY: Boolean(process.stdin.isTTY),
    async readLine(prompt: string): Promise<string | null> {
      if (!process.stdin.isTTY) return null;
      const { createInterface } = await import("node:readline/promises");
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(prompt);
      } finally {
        rl.close();
      }
    },
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    onSignal(handler) {
      const a = () => handler("SIGINT");
      const b = () => handler("SIGTERM");
      process.on("SIGINT", a);
      process.on("SIGTERM", b);
      return () => {
        process.off("SIGINT", a);
        process.off("SIGTERM", b);
      };
    },
  };
}

/** Captures output in memory, for tests. */
export function memoryIo(overrides: Partial<CliIo> & { stdin?: string[] } = {}): CliIo & { out(): string; err(): string } {
  let out = "";
  let err = "";
  const lines = [...(overrides.stdin ?? [])];
  const io: CliIo = {
    stdout: { write: (s) => void (out += s), isTTY: false },
    stderr: { write: (s) => void (err += s), isTTY: false },
    stdinIsTTY: lines.length > 0,
    readLine: async () => (lines.length > 0 ? (lines.shift() ?? null) : null),
    env: {},
    cwd: process.cwd(),
    now: () => new Date(),
    onSignal: () => () => undefined,
    ...overrides,
  };
  return Object.assign(io, { out: () => out, err: () => err });
}
