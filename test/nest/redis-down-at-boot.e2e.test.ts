import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/redis-server.js';

const worker = fileURLToPath(new URL('../support/redis-down-boot-worker.js', import.meta.url));

describe('Redis down when the app boots (a real closed port, a real child process)', () => {
  it('boots without waiting out the connect timeout, serves, and exits as soon as it is closed, quietly', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'redis-down-boot-'));
    try {
      const port = await freePort(); // nothing listens there
      const child = spawn(process.execPath, [worker, `redis://127.0.0.1:${port}`], { cwd });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const exitedAt = await new Promise<number>((resolve) => child.on('exit', () => resolve(Date.now())));
      const output = `${stdout}${stderr}`; // Nest's logger writes warnings to stdout
      const report = JSON.parse(stdout.split('\n').find((line) => line.startsWith('{')) ?? 'null');
      assert.equal(report.status, 200, 'the route works on the failure mode');
      // Before: the boot waited out connectTimeout (2 s) and the exit waited out ioredis's
      // disconnectTimeout (2 s) on a socket that had already failed.
      assert.ok(report.booted < 1500, `booted in ${report.booted} ms`);
      assert.ok(exitedAt - report.closedAt < 1000, `exited ${exitedAt - report.closedAt} ms after app.close()`);
      assert.doesNotMatch(output, /Unhandled error event/);
      // One line per client at most (the queue's own client may not have failed yet when
      // the app closes), never one per reconnect attempt.
      const lines = output.match(/Redis unavailable/g)?.length ?? 0;
      assert.ok(lines >= 1 && lines <= 2, `${lines} "Redis unavailable" lines: ${output}`);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
