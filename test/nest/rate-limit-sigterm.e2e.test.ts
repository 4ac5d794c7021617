import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PLATFORMS } from '../support/http-apps.js';

const worker = fileURLToPath(new URL('../support/wait-shutdown-worker.js', import.meta.url));

/**
 * Starts the worker app, makes `served` calls to `path` that answer at once, then five
 * that wait (for a token, or for their next retry); SIGTERMs the app once its output
 * matches `ready`, and checks the waiting calls and how soon the process exited.
 */
async function sigtermWhileWaiting(
  platform: string,
  path: string,
  served: number,
  ready: RegExp,
  exitWithinMs = 2000,
): Promise<number> {
  const child = spawn(process.execPath, [worker, platform], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<{ signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (_, signal) => resolve({ signal, at: Date.now() })),
  );
  let output = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout.on('data', (chunk) => {
    output += chunk;
    for (const w of [...waiters]) {
      const match = output.match(w.pattern);
      if (match) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(match);
      }
    }
  });
  const seen = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve) => {
      const match = output.match(pattern);
      if (match) resolve(match);
      else waiters.push({ pattern, resolve });
    });
  try {
    const url = `http://127.0.0.1:${Number((await seen(/port (\d+)/))[1])}${path}`;
    for (let i = 0; i < served; i++) assert.equal((await fetch(url)).status, 200);
    const waiting = Array.from({ length: 5 }, () =>
      fetch(url).then(
        (r) => r.status,
        (e: Error) => e.message,
      ),
    );
    await seen(ready);
    const signalled = Date.now();
    child.kill('SIGTERM');
    const statuses = await Promise.all(waiting);
    const { signal, at } = await exited;
    assert.deepEqual(statuses, [503, 503, 503, 503, 503]);
    // Nest's shutdown hooks close the app, then raise the signal again.
    assert.equal(signal, 'SIGTERM');
    assert.ok(at - signalled < exitWithinMs, `exited ${at - signalled} ms after SIGTERM`);
    return at - signalled;
  } finally {
    child.kill('SIGKILL');
  }
}

for (const platform of PLATFORMS) {
  describe(`SIGTERM to an app with calls waiting (${platform}, a real child process)`, () => {
    it("answers calls waiting on a 'wait' limiter 503 and exits at once, not after their 5 to 25 s", {
      timeout: 30_000,
    }, async () => {
      await sigtermWhileWaiting(platform, '/report', 1, /arrived 6/);
    });

    it('answers calls hung under a 60 s callTimeout 503 and exits within 1 s (their deadline timer held it)', {
      timeout: 30_000,
    }, async (t) => {
      const ms = await sigtermWhileWaiting(platform, '/hung', 0, /(hung\n[\s\S]*){5}/, 1000);
      t.diagnostic(`exited ${ms} ms after SIGTERM with 5 calls hung`);
    });

    it('answers calls waiting in retry backoff 503 and exits at once, not after the 10 s backoff', {
      timeout: 30_000,
    }, async () => {
      await sigtermWhileWaiting(platform, '/flaky', 0, /(attempt\n[\s\S]*){5}/);
    });
  });
}
