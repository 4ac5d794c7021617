import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { ResilienceError } from '../errors.js';

/** A second writer on the same DLQ file: two appenders would corrupt each other's log. */
export class DeadLetterLockError extends ResilienceError {}

/**
 * Who holds a lock: a pid alone is not enough, since a container restarted after a crash
 * runs as the same pid (often 1) and a pid is reused by unrelated processes. The start
 * time of the process (from /proc) and the boot id tell a live holder from a dead one
 * whose pid now belongs to somebody else; the token tells two holders apart.
 */
interface Holder {
  pid: number;
  start: string;
  boot: string;
  token: string;
}

/** Locks this process holds, by path: a second open in-process is refused without guessing. */
const held = new Set<string>();

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); the name may hold spaces. */
function startTimeOf(stat: string | undefined): string {
  if (!stat) return '';
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

/** The pid as the mounted /proc numbers it (it differs from process.pid inside a new pid namespace). */
function self(token: string): Holder {
  const stat = readProc('/proc/self/stat');
  return {
    pid: stat ? Number(stat.slice(0, stat.indexOf(' '))) : process.pid,
    start: startTimeOf(stat),
    boot: readProc('/proc/sys/kernel/random/boot_id')?.trim() ?? '',
    token,
  };
}

function parse(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (typeof h.pid === 'number' && typeof h.token === 'string') {
      return { pid: h.pid, start: String(h.start ?? ''), boot: String(h.boot ?? ''), token: h.token };
    }
  } catch {
    // A bare pid: the lock format of 0.1.0.
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0) return { pid, start: '', boot: '', token: '' };
  }
  return undefined;
}

/** True while the holder's process still runs (the same process, not its pid's next owner). */
function alive(holder: Holder, me: Holder): boolean {
  if (holder.boot && me.boot && holder.boot !== me.boot) return false;
  if (holder.start && me.start) {
    const stat = readProc(`/proc/${holder.pid}/stat`);
    if (stat === undefined || startTimeOf(stat) !== holder.start) return false;
    // A zombie (killed, not yet reaped) holds nothing.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  }
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One writer per log: a lock file naming its holder, created exclusively. A lock whose
 * holder no longer runs (a crash, a restarted container) is taken over: moved aside by
 * rename, which only one contender can do, then checked, then replaced by our own.
 */
export function acquireLock(path: string): () => void {
  if (held.has(path)) throw new DeadLetterLockError(`dead-letter log is already open in this process: ${path}`);
  const me = self(randomBytes(8).toString('hex'));
  const body = JSON.stringify(me);
  for (let tries = 0; tries < 5; tries++) {
    try {
      writeFileSync(path, body, { flag: 'wx' });
      held.add(path);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held.delete(path);
        // Remove the lock only if it is still ours.
        if (parse(readProc(path) ?? '')?.token === me.token) rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const text = readProc(path);
    if (text === undefined) continue;
    const holder = parse(text);
    if (holder && alive(holder, me)) {
      throw new DeadLetterLockError(
        `dead-letter log is locked by another writer (pid ${holder.pid}): ${path}. One process may write a file backend; share a queue across processes with the Redis backend.`,
      );
    }
    const aside = `${path}.stale-${me.token}`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    // Another contender may have replaced the stale lock just before our rename: put a live one back.
    const moved = parse(readProc(aside) ?? '');
    if (moved && moved.token !== holder?.token && alive(moved, me)) {
      try {
        linkSync(aside, path);
      } catch {
        // Somebody holds the path again; the loop re-reads it.
      }
    }
    rmSync(aside, { force: true });
  }
  throw new DeadLetterLockError(`could not lock ${path}`);
}
