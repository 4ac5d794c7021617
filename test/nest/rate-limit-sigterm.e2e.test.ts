import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PLATFORMS } from '../support/http-apps.js';

const worker = fileURLToPath(new URL('../support/wait-shutdown-worker.js', import.meta.url));

for (const platform of PLATFORMS) {
  describe(`SIGTERM to an app with calls waiting on a 'wait' limiter (${platform}, a real child process)`, () => {
    it('answers the waiting calls 503 and exits at once, not after their waits (5 to 25 s)', async () => {
      const child = spawn(process.execPath, [worker, platform], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<{ signal: NodeJS.Signals | null; at: number }>((resolve) =>
        child.on('exit', (_, signal) => resolve({ signal, at: Date.now() })),
      );
      let output = '';
      const lineSeen = (pattern: RegExp) =>
        new Promise<RegExpMatchArray>((resolve) => {
          const look = () => {
            const match = output.match(pattern);
            if (match) {
              child.stdout.off('data', look);
              resolve(match);
            }
          };
          child.stdout.on('data', (chunk) => {
            output += chunk;
          });
          child.stdout.on('data', look);
          look();
        });
      try {
        const port = Number((await lineSeen(/port (\d+)/))[1]);
        const url = `http://127.0.0.1:${port}/report`;
        assert.equal((await fetch(url)).status, 200, 'the first call has the one token');
        const waiting = Array.from({ length: 5 }, () =>
          fetch(url).then(
            (r) => r.status,
            (e: Error) => e.message,
          ),
        );
        await lineSeen(/arrived 6/);
        const signalled = Date.now();
        child.kill('SIGTERM');
        const statuses = await Promise.all(waiting);
        const { signal, at } = await exited;
        assert.deepEqual(statuses, [503, 503, 503, 503, 503]);
        // Nest's shutdown hooks close the app, then raise the signal again.
        assert.equal(signal, 'SIGTERM');
        assert.ok(at - signalled < 2000, `exited ${at - signalled} ms after SIGTERM (the waits were 5 to 25 s)`);
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
}
