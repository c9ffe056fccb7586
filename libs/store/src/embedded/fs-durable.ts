import { FileHandle, open } from 'node:fs/promises';

/**
 * Makes a directory's entries durable: after creating, renaming or deleting a file, the
 * file's data may be on disk while its name is not, until the directory itself is fsynced.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms (Windows) cannot open or fsync a directory; there is nothing to do.
    if (!isErrno(error, 'EISDIR', 'EPERM', 'EINVAL', 'EACCES')) throw error;
  } finally {
    await handle?.close();
  }
}

/** Writes the whole buffer (a write may be partial) at the handle's position. */
export async function writeFully(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

/**
 * Whether `error` is a system error with one of these codes. Duck-typed rather than
 * `instanceof Error`: errors from node's fs belong to another realm under jest.
 */
export function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}
