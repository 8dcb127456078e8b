import { open } from 'node:fs/promises';

/**
 * Makes renames and file creations in `dir` durable (fsync of the directory). Best effort,
 * never rejects: some platforms cannot open or fsync a directory (Windows), some filesystems
 * refuse it, and the files' data is already synced by then.
 */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Nothing more can be done here; the data itself is durable.
  }
}
