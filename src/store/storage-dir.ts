/**
 * The storage folder made ready, or refused with what to fix. The daemon (EventStore.open) and
 * `check-config` both go through here, so check-config tests exactly what start-up does:
 * create the folder if absent, then write and remove a file in it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The storage folder cannot be used; `message` says which folder, why, and what to do. */
export class StorageDirError extends Error {
  constructor(
    readonly dir: string,
    /** The errno code of the step that failed (EROFS, EACCES, ENOTDIR, ...). */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'StorageDirError';
  }
}

const WHY: Readonly<Record<string, string>> = {
  EROFS: 'the file system is mounted read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a file is in the way (a path component is not a folder)',
  EEXIST: 'a file of that name is in the way',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
};

const FIX =
  'set storage.dir to a writable folder (relative paths are relative to the config file; in the container mount a volume at /var/lib/lookout and set storage.dir: /var/lib/lookout) or make this one writable for the user the daemon runs as';

function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'EIO';
}

function refuse(dir: string, step: string, err: unknown): StorageDirError {
  const code = codeOf(err);
  const why = WHY[code] ?? (err instanceof Error ? err.message : String(err));
  return new StorageDirError(dir, code, `storage folder ${dir}: cannot ${step}: ${why} (${code}); ${FIX}`);
}

/**
 * Creates `dir` (and missing parents, mode `mode`) one level at a time, so that the errno is the
 * real one (a recursive mkdir reports ENOENT where a parent on a read-only mount could not be
 * made), then proves it writable by creating and deleting a small file in it.
 * @throws StorageDirError naming the folder, the cause and the fix.
 */
export async function prepareStorageDir(dir: string, mode: number): Promise<void> {
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    try {
      if (!(await stat(at)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      if (codeOf(err) !== 'ENOENT' || dirname(at) === at) throw refuse(dir, `use ${at}`, err);
      missing.unshift(at);
    }
  }
  for (const level of missing) {
    try {
      await mkdir(level, { mode });
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw refuse(dir, `create ${level}`, err);
    }
  }
  const probe = join(dir, `.lookout-write-test-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(probe, '', { mode: 0o600 });
  } catch (err) {
    throw refuse(dir, 'write in it', err);
  }
  await unlink(probe).catch(() => undefined);
}
