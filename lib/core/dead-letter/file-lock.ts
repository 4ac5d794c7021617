import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ResilienceError } from '../errors.js';

/** A second writer on the same DLQ file: two appenders would corrupt each other's log. */
export class DeadLetterLockError extends ResilienceError {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One writer per log: a lock file holding the writer's pid, created exclusively. A lock
 * left by a process that no longer runs (a crash) is taken over.
 */
export function acquireLock(path: string): () => void {
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new DeadLetterLockError(
          `dead-letter log is locked by another writer (pid ${holder}): ${path}. One process may write a file backend; share a queue across processes with the Redis backend.`,
        );
      }
      if (holder === process.pid) {
        throw new DeadLetterLockError(`dead-letter log is already open in this process: ${path}`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new DeadLetterLockError(`could not lock ${path}`);
}
