import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, type FSWatcher, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DeadLetterQueue, FileDeadLetterBackend } from '../../../lib/index.js';
import { describeLoss } from '../../support/dlq-evidence.js';

// The worker journals each acknowledgement as it happens (see dlq-cycle-worker.ts); these
// books say what must be in the log after any kill.
const worker = fileURLToPath(new URL('../../support/dlq-cycle-worker.js', import.meta.url));
const createdAt = (id: string) => Number.parseInt(id.slice(0, 9), 36);
const segments = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.log'));

class Books {
  readonly present = new Set<string>();
  readonly deleted = new Set<string>();
  readonly maybe = new Set<string>();

  read(line: string): void {
    const [kind, value] = line.split(' ') as [string, string];
    if (kind === 'A') this.present.add(value);
    if (kind === 'd') this.maybe.add(value);
    if (kind === 'D') {
      this.present.delete(value);
      this.deleted.add(value);
    }
    if (kind === 'R') for (const id of this.present) if (createdAt(id) < Number(value) + 1000) this.maybe.add(id);
    if (kind === 'RD') {
      for (const id of this.present) {
        if (createdAt(id) < Number(value)) {
          this.present.delete(id);
          this.deleted.add(id);
        }
      }
    }
  }

  /** Checks the reopened log against the books, then settles what was in doubt. */
  async check(dir: string, kill: number): Promise<void> {
    // The log as the kill left it (opening it below may cut a torn tail): evidence if this check fails.
    const evidence = mkdtempSync(join(tmpdir(), 'dlq-crash-evidence-'));
    cpSync(dir, evidence, { recursive: true });
    const q = new DeadLetterQueue({
      name: 'cycles',
      backend: new FileDeadLetterBackend({ filePath: dir, onWarning: () => undefined }),
    });
    try {
      const stored = new Set((await q.list({ limit: 1_000_000 })).items.map((l) => l.id));
      const lost = [...this.present].filter((id) => !stored.has(id) && !this.maybe.has(id));
      const back = [...this.deleted].filter((id) => stored.has(id));
      if (lost.length > 0) console.error(describeLoss(evidence, lost));
      assert.deepEqual(lost, [], `kill ${kill}: acknowledged letters lost (the log as killed: ${evidence})`);
      assert.deepEqual(back, [], `kill ${kill}: acknowledged deletes came back`);
      for (const id of [...this.present]) if (!stored.has(id)) this.present.delete(id);
      this.maybe.clear();
      rmSync(evidence, { recursive: true, force: true });
    } finally {
      await q.close();
    }
  }
}

/**
 * Runs the worker until `onSpawn` kills it, then reads the acknowledgements it journaled
 * (a file written before each next step; printed lines can be lost with the process).
 */
async function run(dir: string, books: Books, onSpawn: (child: ChildProcess) => void): Promise<void> {
  const journal = `${dir}.journal`;
  writeFileSync(journal, '');
  const child = spawn(process.execPath, [worker, dir, journal], { stdio: ['ignore', 'ignore', 'inherit'] });
  onSpawn(child);
  await new Promise((resolve) => child.on('close', resolve));
  for (const line of readFileSync(journal, 'utf8').split('\n')) if (line) books.read(line);
  rmSync(journal, { force: true });
}

describe('file dead-letter log: SIGKILL during compaction', () => {
  it('killed 0 to 500 ms after compaction starts its new segment, 30 times: nothing acknowledged is lost or back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlq-compaction-crash-'));
    const books = new Books();
    let bothGenerations = 0;
    let completed = 0;
    try {
      await run(dir, books, (child) => setTimeout(() => child.kill('SIGKILL'), 300)); // a log to start from
      await books.check(dir, -1);
      // From the first byte of the copy to past its end (a compaction here takes ~10-40 ms).
      const delays = [0, 1, 2, 4, 6, 9, 13, 18, 25, 35, 50, 80, 150, 300, 500];
      for (let kill = 0; kill < 30; kill++) {
        const before = new Set(segments(dir));
        let watcher: FSWatcher | undefined;
        let fallback: NodeJS.Timeout | undefined;
        await run(dir, books, (child) => {
          // A new segment file is compaction's copy (segments are 64 MiB: no rotation here).
          watcher = watch(dir, (_, name) => {
            if (!name?.endsWith('.log') || before.has(name)) return;
            watcher?.close();
            setTimeout(() => child.kill('SIGKILL'), delays[kill % delays.length]);
          });
          fallback = setTimeout(() => child.kill('SIGKILL'), 15_000);
        });
        watcher?.close();
        clearTimeout(fallback);
        const after = segments(dir);
        if (after.length > 1 && after.some((name) => before.has(name))) bothGenerations++;
        if (after.length === 1 && !before.has(after[0] as string)) completed++;
        await books.check(dir, kill);
      }
      // The kills landed inside the window where the old segments and the new copy coexist,
      // and after compactions that had finished.
      const spread = `${bothGenerations} of 30 kills left both generations on disk, ${completed} came after the end`;
      assert.ok(bothGenerations >= 5 && completed >= 2, spread);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
