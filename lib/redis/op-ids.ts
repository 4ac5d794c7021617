import { randomBytes } from 'node:crypto';

/**
 * Exactly-once effects for scripts whose reply can be lost. ioredis sends a command again
 * after a reconnect when its reply never came (and we retry ourselves when the outcome is
 * unknown): without a guard, a script that ran before the connection dropped runs twice.
 * Each mutating call carries an operation id; the script keeps the ids it ran (and the
 * reply it gave) in a hash per 5 s generation next to its state, kept for two generations,
 * and answers a repeat with the first reply instead of running again.
 *
 * `OP_IDS_LUA` defines, in a script: nrPrior(base, now, id) -> the stored reply or false,
 * nrRemember(base, now, id, reply). `base` is a key of the script (the hash tag keeps the
 * ids in its slot on a Cluster).
 */
export const OP_IDS_LUA: string = `
local NR_OPS_MS = 5000
local function nrOpsKey(base, now, back)
  return base .. ':ops:' .. (math.floor(now / NR_OPS_MS) - back)
end
local function nrPrior(base, now, id)
  if id == '' then return false end
  return redis.call('HGET', nrOpsKey(base, now, 0), id) or redis.call('HGET', nrOpsKey(base, now, 1), id)
end
local function nrRemember(base, now, id, reply)
  if id == '' then return end
  local key = nrOpsKey(base, now, 0)
  redis.call('HSET', key, id, reply)
  redis.call('PEXPIRE', key, 2 * NR_OPS_MS)
end
`;

/** Unique operation ids: this process's random prefix and a counter. */
export class OpIds {
  private readonly prefix = randomBytes(6).toString('base64url');
  private next = 0;

  id(): string {
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    return `${this.prefix}${this.next.toString(36)}`;
  }
}

/**
 * Whether a failed command may still have run: anything but a command that never left this
 * process (no connection, offline queue off) or a script's own error reply. Such a call is
 * sent again with the same operation id: it runs once, or answers with its first reply.
 */
export function mayHaveRun(error: unknown): boolean {
  const e = error as { name?: string; message?: string } | undefined;
  if (!e || e.name === 'ReplyError') return false;
  return !/isn't writeable|enableOfflineQueue/.test(String(e.message));
}

/** What sendOnce needs of a client: whether it is connected, and to hear when it closes and is ready again. */
export interface Reconnecting {
  status: string;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
  on?(event: 'close', listener: () => void): unknown;
}

/** A command was in flight when its connection closed: it may have run, its reply will not come. */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
  constructor() {
    super('the connection closed while the command was in flight');
  }
}

/** Per client, the attempts in flight, told at once when its connection closes (one listener each). */
const inFlight = new WeakMap<Reconnecting, Set<() => void>>();

function watchClose(client: Reconnecting): Set<() => void> | undefined {
  if (typeof client.on !== 'function') return undefined;
  let waiting = inFlight.get(client);
  if (!waiting) {
    const set = new Set<() => void>();
    client.on('close', () => {
      for (const lost of [...set]) lost();
    });
    inFlight.set(client, set);
    waiting = set;
  }
  return waiting;
}

/**
 * One attempt. ioredis, told not to resend on reconnect, drops the commands in flight on a
 * closed connection without failing them: they would only fail at commandTimeout. A close
 * fails the attempt at once instead, so it is sent again as soon as the client is ready.
 */
function attempt<T>(send: () => Promise<T>, client: Reconnecting): Promise<T> {
  const waiting = watchClose(client);
  const sent = send();
  if (!waiting) return sent;
  return new Promise<T>((resolve, reject) => {
    const lost = () => {
      waiting.delete(lost);
      sent.catch(() => {}); // its timeout, later, is no one's to hear
      reject(new ConnectionLostError());
    };
    waiting.add(lost);
    sent.then(
      (value) => {
        waiting.delete(lost);
        resolve(value);
      },
      (error: unknown) => {
        waiting.delete(lost);
        reject(error);
      },
    );
  });
}

/**
 * Runs `send` (the same call, the same operation id) until its outcome is known: a failure
 * that may have run is sent again once the client is connected again (within `waitMs`), up
 * to `attempts` times; one that never left, or a script error, is thrown at once.
 */
export async function sendOnce<T>(
  send: () => Promise<T>,
  client: Reconnecting,
  { attempts = 3, waitMs = 500 }: { attempts?: number; waitMs?: number } = {},
): Promise<T> {
  let unknown: unknown;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt(send, client);
    } catch (error) {
      if (unknown === undefined && !mayHaveRun(error)) throw error;
      unknown ??= error;
      if (tries >= attempts || !(await connected(client, waitMs))) throw unknown;
    }
  }
}

function connected(client: Reconnecting, waitMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const ready = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      client.off('ready', ready);
      resolve(false);
    }, waitMs);
    timer.unref();
    client.once('ready', ready);
  });
}
