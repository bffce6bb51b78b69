import { randomBytes, randomUUID } from "node:crypto";
import { constants as fsConstants, type Stats } from "node:fs";
import { copyFile, link, mkdir, open, readFile, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { StateError } from "../errors/index.js";
import type { StateFile } from "../model/index.js";
import { checkCas, checkLockHeld, noLockError } from "./cas.js";
import { decodeState, encodeStateChunks } from "./codec.js";
import { encodeDelta, interimDelta, ownCopy, replayJournal, type StateDelta } from "./delta.js";
import { isExpired, lockedError, newLockInfo } from "./lock.js";
import type { ExpectedVersion, LockInfo, LockRequest, StateBackend, StateIdentity, WriteOptions } from "./types.js";

export interface LocalBackendOptions {
  /** The state file. Next to it live `<path>.backup`, `<path>.lock`, during an apply `<path>.journal`, and, briefly, `<path>.mutex`. */
  path: string;
  identity?: StateIdentity;
  now?: () => Date;
  newId?: () => string;
  version?: string;
}

/** A mutex file older than this was left by a process that died inside a few-millisecond critical section. */
const MUTEX_STALE_MS = 30_000;
const MUTEX_WAIT_MS = 45_000;

interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

/** What is stored: the state file and its journal as last seen by this handle. */
interface Stored {
  file: FileStamp;
  journal: FileStamp | null;
  /** Bytes of the journal holding whole lines that are part of the state; the rest is appended over. */
  journalValidBytes: number;
  lineage: string;
  serial: number;
}

/** The state file and its journal (when there is one) as read together. */
interface StoredFiles {
  text: string;
  st: Stats;
  journal?: { bytes: Buffer; st: Stats };
}

/**
 * The default backend: one JSON file. Writes are atomic and durable (temp file in the same folder, fsync,
 * rename, fsync of the folder), so a crash leaves either the old or the new state, never a mix; the
 * version being replaced is kept as `<path>.backup` (a hard link, so large states cost no copy).
 *
 * Interim writes (apply's journal batches, see WriteOptions) are appended to `<path>.journal` as the
 * difference from the version before (see delta.ts), fsynced before the write returns; the next whole
 * write (apply's last) replaces the file and removes the journal. Reading applies the journal, so every
 * reader sees the latest version.
 *
 * The lock is `<path>.lock` (created with link(2), which fails if it exists). Compare-and-swap checks,
 * journal appends, lock takeovers and heartbeats run under `<path>.mutex` so that two processes cannot
 * interleave them.
 */
export class LocalStateBackend implements StateBackend {
  readonly path: string;
  readonly backupPath: string;
  readonly lockPath: string;
  readonly journalPath: string;
  private readonly mutexPath: string;
  private readonly now: () => Date;
  private readonly newId: () => string;
  /** The stored version as this handle last read or wrote it, to avoid re-parsing a large file per write. */
  private cache: Stored | undefined;
  /** The state this handle last read or wrote (its own arrays): what an interim write is a difference from. */
  private last: StateFile | undefined;

  constructor(private readonly opts: LocalBackendOptions) {
    this.path = resolve(opts.path);
    this.backupPath = this.path + ".backup";
    this.lockPath = this.path + ".lock";
    this.journalPath = this.path + ".journal";
    this.mutexPath = this.path + ".mutex";
    this.now = opts.now ?? (() => new Date());
    this.newId = opts.newId ?? randomUUID;
  }

  describe(): string {
    return `local file ${this.path}`;
  }

  async read(): Promise<StateFile | null> {
    const state = await this.load(this.opts.identity);
    if (state !== null) this.remember(state);
    return state;
  }

  async write(next: StateFile, expected: ExpectedVersion, options?: WriteOptions): Promise<void> {
    const delta = interimDelta(this.last, next, expected, options?.interim === true);
    if (delta !== undefined) return this.append(delta, next, expected);
    await mkdir(dirname(this.path), { recursive: true });
    const chunks = encodeStateChunks(next);
    // The slow part (writing and syncing a possibly large file) happens outside the mutex.
    const tmp = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await writeDurable(tmp, chunks).catch((e: unknown) => {
        throw new StateError(`Cannot write state ${this.path}: ${(e as Error).message}`, { file: this.path, cause: e });
      });
      await this.withMutex(async () => {
        checkLockHeld(await this.readLock(), expected.lockId, this.describe());
        const stored = await this.storedVersion();
        checkCas(stored, next, expected, this.describe());
        const hadJournal = stored !== null && this.cache?.journal != null;
        try {
          if (stored !== null) await this.keepBackup();
          await rename(tmp, this.path);
        } catch (e) {
          throw new StateError(`Cannot write state ${this.path}: ${(e as Error).message}`, { file: this.path, cause: e });
        }
        await fsyncDir(dirname(this.path));
        // The new file holds everything the journal did, so the journal's lines are now skipped when read
        // (their serials are older than the file's) and cut off by the next append: a crash before this
        // unlink, or an unlink that fails, does not make the write fail.
        let journalLeft = false;
        if (hadJournal) {
          await unlink(this.journalPath).catch((e: unknown) => {
            if (!isErrno(e, "ENOENT")) journalLeft = true;
          });
          await fsyncDir(dirname(this.path));
        }
        const st = await stat(this.path);
        this.cache = journalLeft ? undefined : { file: stampOf(st), journal: null, journalValidBytes: 0, lineage: next.lineage, serial: next.serial };
        this.remember(next);
      });
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** An interim write: one line appended to the journal (after any torn or left-over tail is cut off). */
  private async append(delta: StateDelta, next: StateFile, expected: ExpectedVersion): Promise<void> {
    const line = encodeDelta(delta);
    await this.withMutex(async () => {
      checkLockHeld(await this.readLock(), expected.lockId, this.describe());
      const stored = await this.storedVersion();
      checkCas(stored, next, expected, this.describe());
      const cached = this.cache!;
      try {
        const fh = await open(this.journalPath, "a", 0o600);
        try {
          if (cached.journal !== null && cached.journal.size !== cached.journalValidBytes) await fh.truncate(cached.journalValidBytes);
          await writeChunks(fh, [line]);
          await fh.sync();
          const st = await fh.stat();
          this.cache = { file: cached.file, journal: stampOf(st), journalValidBytes: st.size, lineage: next.lineage, serial: next.serial };
        } finally {
          await fh.close();
        }
        if (cached.journal === null) await fsyncDir(dirname(this.path));
      } catch (e) {
        this.cache = undefined;
        throw new StateError(`Cannot write state journal ${this.journalPath}: ${(e as Error).message}`, { file: this.journalPath, cause: e });
      }
      this.remember(next);
    });
  }

  private remember(state: StateFile): void {
    this.last = ownCopy(state);
  }

  /** The stored state with its journal applied; null when there is no state file. Sets the cache. */
  private async load(identity: StateIdentity | undefined): Promise<StateFile | null> {
    // The file and its journal are two reads: if the file was replaced in between (a whole write, after
    // which the journal starts again), the pair does not fit together; read both again.
    for (let attempt = 1; ; attempt++) {
      const read = await this.readFiles();
      if (read === null) return null;
      const now = await stat(this.path).catch(() => null);
      if (attempt < 5 && (now === null || !sameStamp(stampOf(now), stampOf(read.st)))) continue;
      return this.decodeFiles(read, identity);
    }
  }

  private async readFiles(): Promise<StoredFiles | null> {
    let text: string;
    let st: Stats;
    try {
      const fh = await open(this.path, "r");
      try {
        st = await fh.stat();
        text = await fh.readFile("utf8");
      } finally {
        await fh.close();
      }
    } catch (e) {
      if (isErrno(e, "ENOENT")) {
        if (await exists(this.journalPath)) {
          throw new StateError(`State journal ${this.journalPath} exists, but the state file ${this.path} does not; the journal alone is not a state.`, {
            file: this.journalPath,
            hint: "Restore the state file (or its .backup) next to the journal, or move the journal away to start without state.",
          });
        }
        return null;
      }
      throw new StateError(`Cannot read state ${this.path}: ${(e as Error).message}`, { file: this.path, cause: e });
    }
    try {
      const fh = await open(this.journalPath, "r");
      try {
        const jst = await fh.stat();
        return { text, st, journal: { bytes: await fh.readFile(), st: jst } };
      } finally {
        await fh.close();
      }
    } catch (e) {
      if (!isErrno(e, "ENOENT")) throw new StateError(`Cannot read state journal ${this.journalPath}: ${(e as Error).message}`, { file: this.journalPath, cause: e });
    }
    return { text, st };
  }

  private async decodeFiles({ text, st, journal }: StoredFiles, identity: StateIdentity | undefined): Promise<StateFile> {
    const base = decodeState(text, {
      source: this.path,
      backup: (await exists(this.backupPath)) ? this.backupPath : undefined,
      identity,
    });
    const replayed = journal === undefined ? undefined : replayJournal(base, journal.bytes, this.journalPath);
    const state = replayed?.state ?? base;
    this.cache = {
      file: stampOf(st),
      journal: journal === undefined ? null : stampOf(journal.st),
      // Lines that add nothing (left over from before the file was written whole) are appended over.
      journalValidBytes: replayed !== undefined && replayed.applied > 0 ? replayed.validBytes : 0,
      lineage: state.lineage,
      serial: state.serial,
    };
    return state;
  }

  async lock(req: LockRequest): Promise<LockInfo> {
    await mkdir(dirname(this.path), { recursive: true });
    return this.withMutex(async () => {
      const now = this.now();
      const info = newLockInfo(req, this.newId(), now, this.opts.version ?? "0.0.0", this.path);
      const held = await this.readLock();
      if (held !== null) {
        if (!isExpired(held, now)) throw lockedError(held, now, 0);
        info.TakenOver = { ID: held.ID, Who: held.Who, Operation: held.Operation, Created: held.Created, Expires: held.Expires };
        // Under the mutex nobody else can renew or take it between our check and this rename.
        await this.writeLock(info, "replace");
      } else {
        await this.writeLock(info, "create");
      }
      return info;
    });
  }

  async refreshLock(id: string, ttlMs: number): Promise<LockInfo> {
    return this.withMutex(async () => {
      const held = await this.readLock();
      if (held === null || held.ID !== id) throw noLockError(id, held, this.describe());
      const next = { ...held, Expires: new Date(this.now().getTime() + ttlMs).toISOString() };
      await this.writeLock(next, "replace");
      return next;
    });
  }

  async unlock(id: string): Promise<void> {
    await this.withMutex(async () => {
      const held = await this.readLock();
      if (held === null || held.ID !== id) throw noLockError(id, held, this.describe());
      await unlink(this.lockPath);
      await fsyncDir(dirname(this.path));
    });
  }

  async currentLock(): Promise<LockInfo | null> {
    return this.readLock();
  }

  private async storedVersion(): Promise<{ lineage: string; serial: number } | null> {
    let st;
    try {
      st = await stat(this.path);
    } catch (e) {
      if (isErrno(e, "ENOENT")) {
        this.cache = undefined;
        return null;
      }
      throw e;
    }
    const jst = await stat(this.journalPath).catch((e: unknown) => {
      if (isErrno(e, "ENOENT")) return null;
      throw e;
    });
    const c = this.cache;
    if (c && sameStamp(c.file, st) && (c.journal === null ? jst === null : jst !== null && sameStamp(c.journal, jst))) {
      return { lineage: c.lineage, serial: c.serial };
    }
    // Someone else wrote it: full validation, so a damaged file is never silently replaced.
    const state = await this.load(undefined);
    return state === null ? null : { lineage: state.lineage, serial: state.serial };
  }

  private async keepBackup(): Promise<void> {
    const tmp = `${this.backupPath}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await link(this.path, tmp);
    } catch {
      // File systems without hard links: copy instead.
      await copyFile(this.path, tmp, fsConstants.COPYFILE_FICLONE);
    }
    await rename(tmp, this.backupPath);
  }

  private async readLock(): Promise<LockInfo | null> {
    let text: string;
    try {
      text = await readFile(this.lockPath, "utf8");
    } catch (e) {
      if (isErrno(e, "ENOENT")) return null;
      throw e;
    }
    try {
      const info = JSON.parse(text) as LockInfo;
      if (typeof info.ID === "string" && typeof info.Expires === "string") return info;
    } catch {
      // fall through
    }
    // An unreadable lock file cannot be renewed by anyone, so it counts as expired.
    return {
      ID: "unreadable",
      Operation: "unknown",
      Who: "unknown",
      Version: "unknown",
      Created: new Date(0).toISOString(),
      Expires: new Date(0).toISOString(),
      Path: this.path,
    };
  }

  /** Lock files are written whole to a temp file first, so a reader never sees half a lock. */
  private async writeLock(info: LockInfo, mode: "create" | "replace"): Promise<void> {
    const tmp = `${this.lockPath}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    await writeDurable(tmp, [Buffer.from(JSON.stringify(info, null, 2) + "\n")]);
    try {
      if (mode === "create") {
        await link(tmp, this.lockPath);
        await unlink(tmp);
      } else {
        await rename(tmp, this.lockPath);
      }
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    await fsyncDir(dirname(this.path));
  }

  private async withMutex<T>(fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    let wait = 2;
    for (;;) {
      try {
        const fh = await open(this.mutexPath, "wx");
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        break;
      } catch (e) {
        if (!isErrno(e, "EEXIST")) throw e;
      }
      try {
        const st = await stat(this.mutexPath);
        if (Date.now() - st.mtimeMs > MUTEX_STALE_MS) {
          await unlink(this.mutexPath).catch(() => undefined);
          continue;
        }
      } catch {
        continue;
      }
      if (Date.now() - started > MUTEX_WAIT_MS) {
        throw new StateError(`Timed out waiting for ${basename(this.mutexPath)} next to the state file.`, {
          file: this.mutexPath,
          hint: "Another stsorg process is updating the state; if none is running, delete that file.",
        });
      }
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 50);
    }
    try {
      return await fn();
    } finally {
      await unlink(this.mutexPath).catch(() => undefined);
    }
  }
}

async function writeDurable(path: string, chunks: readonly Buffer[]): Promise<void> {
  const fh = await open(path, "wx", 0o600);
  try {
    await writeChunks(fh, chunks);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes the chunks in order, a thousand per system call (a state has two per resource). */
async function writeChunks(fh: FileHandle, chunks: readonly Buffer[]): Promise<void> {
  for (let i = 0; i < chunks.length; i += 1024) {
    const group = chunks.slice(i, i + 1024);
    const length = group.reduce((n, b) => n + b.length, 0);
    const written = (await fh.writev(group)).bytesWritten;
    if (written < length) {
      // A short write (rare on regular files): write the rest of the group plainly.
      const rest = Buffer.concat(group).subarray(written);
      for (let at = 0; at < rest.length; ) at += (await fh.write(rest, at)).bytesWritten;
    }
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function stampOf(st: { ino: number; size: number; mtimeMs: number }): FileStamp {
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function isErrno(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === code;
}
