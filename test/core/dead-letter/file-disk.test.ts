import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DeadLetterQueue, FileDeadLetterBackend } from '../../../lib/index.js';
import { describeLoss } from '../../support/dlq-evidence.js';

// These tests need root (CI runs as root): a real tmpfs, a real pid namespace.
const worker = (name: string) => fileURLToPath(new URL(`../../support/${name}.js`, import.meta.url));

function lines(child: ChildProcess, onLine: (line: string) => void): Promise<number | null> {
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) if (line) onLine(line);
  });
  // 'close', not 'exit': 'exit' can come before the last lines of stdout are read, and a
  // line read after the check (a 'd' said before a delete) would make the books wrong.
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

async function allIds(q: DeadLetterQueue): Promise<Set<string>> {
  return new Set((await q.list({ limit: 1_000_000 })).items.map((l) => l.id));
}

describe('file dead-letter log on a real full disk (tmpfs)', () => {
  it('after ENOSPC, space freed: every acknowledged letter reads back, also after reopening', async () => {
    const mount = mkdtempSync(join(tmpdir(), 'dlq-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
    try {
      const dir = join(mount, 'dlq');
      const warnings: string[] = [];
      let q = new DeadLetterQueue({
        name: 'full',
        backend: new FileDeadLetterBackend({ filePath: dir, onWarning: (w) => warnings.push(w) }),
      });
      const filler = join(mount, 'filler');
      writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024 - 96 * 1024));
      const acked: string[] = [];
      let failures = 0;
      // Batches of concurrent adds, so a failing write carries several records.
      for (let round = 0; round < 40 && failures < 3; round++) {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => q.add({ args: [round, i, 'f'.repeat(3000)], error: new Error('x') })),
        );
        for (const r of results) {
          if (r.status === 'fulfilled') acked.push(r.value.id);
          else {
            assert.equal((r.reason as NodeJS.ErrnoException).code, 'ENOSPC');
            failures++;
          }
        }
      }
      assert.ok(failures > 0, 'the disk filled up');
      rmSync(filler);
      for (let i = 0; i < 20; i++) acked.push((await q.add({ args: ['after', i], error: new Error('x') })).id);
      assert.deepEqual([...(await allIds(q))].sort(), [...acked].sort(), 'readable while open');
      await q.close();
      q = new DeadLetterQueue({
        name: 'full',
        backend: new FileDeadLetterBackend({ filePath: dir, onWarning: (w) => warnings.push(w) }),
      });
      assert.deepEqual([...(await allIds(q))].sort(), [...acked].sort(), 'readable after reopening');
      assert.deepEqual(warnings, [], 'no damage was left behind');
      await q.close();
    } finally {
      execFileSync('umount', [mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  });
});

describe('file dead-letter lock in a container restarted as pid 1', () => {
  it('a restart after SIGKILL boots (same pid 1), and a live holder still keeps a second writer out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlq-pid1-'));
    const children: ChildProcess[] = [];
    try {
      const start = () => {
        const child = spawn(
          'unshare',
          ['--pid', '--fork', '--kill-child=SIGKILL', process.execPath, worker('dlq-pid1-worker'), dir],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        children.push(child);
        return child;
      };
      const ready = (child: ChildProcess) =>
        new Promise<string>((resolve, reject) => {
          let err = '';
          child.stderr?.on('data', (c: Buffer) => {
            err += c.toString();
          });
          void lines(child, (line) => resolve(line)).then((code) => reject(new Error(`exited ${code}: ${err}`)));
        });
      const first = start();
      assert.equal(await ready(first), 'ready pid=1 size=1');
      const holderPid = (JSON.parse(readFileSync(join(dir, 'dlq.lock'), 'utf8')) as { pid: number }).pid;
      // A second writer while the first lives: refused.
      const second = start();
      await assert.rejects(ready(second), /locked by another writer/);
      first.kill('SIGKILL');
      await new Promise((r) => first.on('exit', r));
      // As in a container restart, the old pid 1 is gone before the new one starts.
      for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
        const stat = (() => {
          try {
            return readFileSync(`/proc/${holderPid}/stat`, 'utf8');
          } catch {
            return undefined;
          }
        })();
        if (stat === undefined || / [ZX] /.test(stat.slice(stat.lastIndexOf(')')))) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const restarted = start();
      assert.equal(await ready(restarted), 'ready pid=1 size=2', 'the restarted pid 1 took the stale lock over');
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('file dead-letter log under repeated SIGKILL during add / delete / retention / compaction', () => {
  it('loses no acknowledged letter and brings back no acknowledged delete over 24 kills', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlq-cycles-'));
    mkdirSync(dir, { recursive: true });
    const present = new Set<string>();
    const deleted = new Set<string>();
    const maybe = new Set<string>();
    // Every line said about each id, with the kill it came in: evidence if a check fails.
    const history = new Map<string, string[]>();
    const createdAt = (id: string) => Number.parseInt(id.slice(0, 9), 36);
    const journal = `${dir}.journal`;
    writeFileSync(journal, '');
    let journalRead = 0;
    let compactions = 0;
    try {
      for (let kill = 0; kill < 24; kill++) {
        const child = spawn(process.execPath, [worker('dlq-cycle-worker'), dir, journal], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const killAfter = 200 + ((kill * 7919) % 900);
        let seen = 0;
        // Printed lines only time the kill; the books come from the worker's journal (a file
        // written before each next step: printed lines can be lost with the process).
        const exited = lines(child, () => {
          if (++seen === killAfter) child.kill('SIGKILL');
        });
        await exited;
        const journaled = readFileSync(journal, 'utf8');
        const fresh = journaled.slice(journalRead).split('\n').filter(Boolean);
        journalRead = journaled.length;
        for (const line of fresh) {
          const [kind, value] = line.split(' ');
          if (kind === 'A' || kind === 'd' || kind === 'D')
            history.set(value, [...(history.get(value) ?? []), `${kill}${kind}`]);
          if (kind === 'R' || kind === 'RD') history.set(kind, [...(history.get(kind) ?? []), `${kill}:${value}`]);
          if (kind === 'A') present.add(value);
          if (kind === 'd') maybe.add(value);
          if (kind === 'D') {
            present.delete(value);
            deleted.add(value);
          }
          if (kind === 'R') for (const id of present) if (createdAt(id) < Number(value) + 1000) maybe.add(id);
          if (kind === 'RD') {
            for (const id of present) {
              if (createdAt(id) < Number(value)) {
                present.delete(id);
                deleted.add(id);
              }
            }
          }
        }
        // The log as the kill left it (opening it below may cut a torn tail).
        const evidence = mkdtempSync(join(tmpdir(), 'dlq-cycle-evidence-'));
        cpSync(dir, evidence, { recursive: true });
        const backend = new FileDeadLetterBackend({ filePath: dir, onWarning: () => undefined });
        const q = new DeadLetterQueue({ name: 'cycles', backend });
        const stored = await allIds(q);
        compactions += backend.stats().segments === 1 ? 1 : 0;
        const lost = [...present].filter((id) => !stored.has(id) && !maybe.has(id));
        const back = [...deleted].filter((id) => stored.has(id));
        if (lost.length > 0) {
          const said = lost.slice(0, 5).map((id) => `${id}: ${history.get(id)?.join(' ')}`);
          const retention = `retention: ${history.get('R')?.join(' ')} / done: ${history.get('RD')?.join(' ')}`;
          console.error([describeLoss(evidence, lost), ...said, retention].join('\n'));
        }
        assert.deepEqual(lost, [], `kill ${kill}: acknowledged letters lost (the log as killed: ${evidence})`);
        rmSync(evidence, { recursive: true, force: true });
        assert.deepEqual(back, [], `kill ${kill}: acknowledged deletes came back`);
        for (const id of [...present]) if (!stored.has(id)) present.delete(id);
        maybe.clear();
        await q.close();
      }
      assert.ok(compactions > 0, 'compaction ran during the cycles');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(journal, { force: true });
    }
  });
});
