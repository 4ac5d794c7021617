import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DeadLetterQueue, FileDeadLetterBackend } from '../../../lib/index.js';

describe('file dead-letter backend under SIGKILL', () => {
  it('keeps every add that had resolved when the process was killed during 10,000 concurrent adds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlq-crash-'));
    try {
      const worker = fileURLToPath(new URL('../../support/dlq-crash-worker.js', import.meta.url));
      const child = spawn(process.execPath, [worker, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const resolved: string[] = [];
      let buffered = '';
      let killed = false;
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) if (line && line !== 'done') resolved.push(line);
          if (!killed && resolved.length >= 3000) {
            killed = true;
            child.kill('SIGKILL');
          }
        });
        child.on('close', () => resolve()); // after the last line of stdout, unlike 'exit'
      });
      assert.ok(killed, 'the worker was killed before it finished');
      assert.ok(resolved.length >= 3000 && resolved.length < 10_000, `${resolved.length} adds had resolved`);
      const warnings: string[] = [];
      const queue = new DeadLetterQueue({
        name: 'crash',
        backend: new FileDeadLetterBackend({ filePath: dir, onWarning: (w) => warnings.push(w) }),
      });
      const stored = new Set<string>();
      for (
        let cursor: string | undefined, page = await queue.list({ limit: 1000 });
        ;
        page = await queue.list({ limit: 1000, cursor })
      ) {
        for (const letter of page.items) stored.add(letter.id);
        if (!page.next) break;
        cursor = page.next;
      }
      const missing = resolved.filter((id) => !stored.has(id));
      assert.deepEqual(missing, [], 'a resolved add was lost');
      assert.ok(
        warnings.every((w) => /torn last record/.test(w)),
        warnings.join('\n'),
      );
      await queue.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
