import { link, readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataDirLockedError } from './embedded.errors';
import { isErrno } from './fs-durable';

const LOCK_FILE = 'LOCK';

/**
 * Directories this process holds. The pid in a lock file cannot tell a second open in this
 * process from a stale lock left by an earlier process that happened to get the same pid
 * (pid 1 in every container restart), so this process remembers its own locks.
 */
const heldHere = new Set<string>();

/**
 * An exclusive claim on a data directory, so two stores never write one log: a `LOCK` file
 * holding the owner's pid. A lock whose process is gone is stale and taken over.
 *
 * The lock file is created complete or not at all (written to a private temp file, then
 * hard-linked into place, which fails if the name exists), so a reader never sees a
 * half-written pid. Taking over a stale lock is a read-then-unlink and has a small race
 * between two processes that both found the same stale lock at the same instant; node has no
 * flock() to close it, and a single-node deployment does not start two servers at once.
 */
export class DataDirLock {
  private released = false;

  private constructor(
    private readonly dir: string,
    private readonly path: string,
  ) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    const dir = await realpath(dataDir);
    if (heldHere.has(dir)) throw new DataDirLockedError(dir, process.pid);
    // Claimed before the first await, so a concurrent open in this process is refused too.
    heldHere.add(dir);
    const path = join(dir, LOCK_FILE);
    const temp = join(dir, `${LOCK_FILE}.${process.pid}.tmp`);
    try {
      await writeFile(temp, `${JSON.stringify({ pid: process.pid })}\n`);
      for (let attempt = 0; ; attempt++) {
        try {
          await link(temp, path);
          return new DataDirLock(dir, path);
        } catch (error) {
          if (!isErrno(error, 'EEXIST') || attempt >= 5) throw error;
        }
        const owner = await readOwner(path);
        if (owner !== undefined && owner !== process.pid && (await isAlive(owner))) {
          throw new DataDirLockedError(dir, owner);
        }
        // Stale: its process is gone, or it is ours from an earlier life (same pid, not held).
        await unlink(path).catch((error: unknown) => {
          if (!isErrno(error, 'ENOENT')) throw error;
        });
      }
    } catch (error) {
      heldHere.delete(dir);
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.dir);
    await unlink(this.path).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw error;
    });
  }
}

/** The pid in a lock file; undefined when the file is gone or unreadable (treated as stale). */
async function readOwner(path: string): Promise<number | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown };
    return typeof parsed.pid === 'number' ? parsed.pid : undefined;
  } catch {
    return undefined;
  }
}

async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return !isErrno(error, 'ESRCH');
  }
  // A killed process whose parent has not reaped it yet (a zombie) still "exists", but it
  // holds no files and will never write again. Linux tells us through /proc.
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): trust kill()
  }
}
