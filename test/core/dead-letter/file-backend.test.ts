import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DeadLetterLockError, DeadLetterQueue, FileDeadLetterBackend } from '../../../lib/index.js';
import { deadLetterContract } from '../../support/dlq-contract.js';

const root = mkdtempSync(join(tmpdir(), 'dlq-file-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('file dead-letter backend (contract)', () => {
  const dir = join(root, 'contract');
  deadLetterContract(async () => new FileDeadLetterBackend({ filePath: dir, onWarning: () => {} }), { reopen: true });
});

function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort();
}

describe('file dead-letter backend', () => {
  it("takes the guide's file path ('/var/dlq/messages.json' style) as directory plus log name", async () => {
    const dir = join(root, 'guide');
    const backend = new FileDeadLetterBackend({ filePath: join(dir, 'messages.json') });
    const q = new DeadLetterQueue({ name: 'email', backend });
    await q.add({ error: new Error('x') });
    await q.close();
    assert.deepEqual(segments(dir), ['messages.000001.log']);
  });

  it('shares one write and one fsync among concurrent adds (group commit)', async () => {
    const dir = join(root, 'group');
    const backend = new FileDeadLetterBackend({ filePath: dir });
    const q = new DeadLetterQueue({ name: 'g', backend });
    const lines = () => readFileSync(join(dir, segments(dir)[0]), 'utf8').split('\n').length - 1;
    await Promise.all(Array.from({ length: 500 }, (_, i) => q.add({ args: [i], error: new Error('x') })));
    assert.equal(lines(), 500);
    assert.equal(await q.size(), 500);
    await q.close();
  });

  it('cuts off a torn last record with a warning and keeps the rest', async () => {
    const dir = join(root, 'torn');
    let q = new DeadLetterQueue({ name: 't', backend: new FileDeadLetterBackend({ filePath: dir }) });
    for (let i = 0; i < 3; i++) await q.add({ args: [i], error: new Error('x') });
    await q.close();
    const file = join(dir, segments(dir)[0]);
    appendFileSync(file, '0badc0de {"o":"a","id":"zz","d":"{\\"half'); // a crash mid-write
    const warnings: string[] = [];
    q = new DeadLetterQueue({
      name: 't',
      backend: new FileDeadLetterBackend({ filePath: dir, onWarning: (w) => warnings.push(w) }),
    });
    assert.equal(await q.size(), 3);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /torn last record/);
    await q.add({ error: new Error('after recovery') });
    await q.close();
    q = new DeadLetterQueue({
      name: 't',
      backend: new FileDeadLetterBackend({ filePath: dir, onWarning: (w) => warnings.push(w) }),
    });
    assert.equal(await q.size(), 4, 'the log is whole again');
    assert.equal(warnings.length, 1);
    await q.close();
  });

  it('skips a corrupt record in the middle with a warning, never the others', async () => {
    const dir = join(root, 'corrupt');
    let q = new DeadLetterQueue({ name: 'c', backend: new FileDeadLetterBackend({ filePath: dir }) });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await q.add({ args: [i], error: new Error('x') })).id);
    await q.close();
    const file = join(dir, segments(dir)[0]);
    const lines = readFileSync(file, 'utf8').split('\n');
    // Bit rot: one character of the second record changes, so its CRC no longer matches.
    lines[1] = `${lines[1].slice(0, 30)}${lines[1][30] === 'a' ? 'b' : 'a'}${lines[1].slice(31)}`;
    writeFileSync(file, lines.join('\n'));
    const warnings: string[] = [];
    q = new DeadLetterQueue({
      name: 'c',
      backend: new FileDeadLetterBackend({ filePath: dir, onWarning: (w) => warnings.push(w) }),
    });
    assert.deepEqual(
      (await q.list()).items.map((l) => l.id),
      [ids[0], ids[2]],
    );
    assert.match(warnings[0], /damaged bytes at \d+ skipped/);
    await q.close();
  });

  it('compacts the log when most of it is deleted', async () => {
    const dir = join(root, 'compact');
    const backend = new FileDeadLetterBackend({ filePath: dir });
    const q = new DeadLetterQueue({ name: 'k', backend });
    const big = 'x'.repeat(2000);
    const ids = [];
    for (let i = 0; i < 800; i++) ids.push((await q.add({ args: [big], error: new Error('x') })).id);
    const before = backend.stats().totalBytes;
    for (const id of ids.slice(0, 700)) await q.delete(id);
    const after = backend.stats();
    assert.ok(after.totalBytes < before / 2, `compacted: ${after.totalBytes} of ${before}`);
    assert.equal(await q.size(), 100);
    await q.close();
    const reopened = new DeadLetterQueue({ name: 'k', backend: new FileDeadLetterBackend({ filePath: dir }) });
    assert.deepEqual(
      (await reopened.list({ limit: 1000 })).items.map((l) => l.id),
      ids.slice(700),
    );
    await reopened.close();
  });

  it('refuses a second writer with a clear error, and takes over a dead one', async () => {
    const dir = join(root, 'lock');
    const first = new FileDeadLetterBackend({ filePath: dir });
    assert.throws(() => new FileDeadLetterBackend({ filePath: dir }), DeadLetterLockError);
    await first.close();
    writeFileSync(join(dir, 'dlq.lock'), '999999999'); // left by a process that died
    const taken = new FileDeadLetterBackend({ filePath: dir });
    await taken.close();
  });

  it('copies a consistent backup', async () => {
    const dir = join(root, 'backup');
    const backend = new FileDeadLetterBackend({ filePath: dir, backupEnabled: true, backupInterval: 3600 });
    const q = new DeadLetterQueue({ name: 'b', backend });
    for (let i = 0; i < 10; i++) await q.add({ args: [i], error: new Error('x') });
    const target = await backend.backup();
    await q.add({ error: new Error('after the backup') });
    await q.close();
    const restored = new DeadLetterQueue({ name: 'b', backend: new FileDeadLetterBackend({ filePath: target }) });
    assert.equal(await restored.size(), 10);
    await restored.close();
  });

  it('survives a truncated segment tail (zero-length write)', async () => {
    const dir = join(root, 'truncated');
    let q = new DeadLetterQueue({ name: 'z', backend: new FileDeadLetterBackend({ filePath: dir }) });
    await q.add({ error: new Error('a') });
    await q.add({ error: new Error('b') });
    await q.close();
    const file = join(dir, segments(dir)[0]);
    truncateSync(file, readFileSync(file).length - 5);
    q = new DeadLetterQueue({ name: 'z', backend: new FileDeadLetterBackend({ filePath: dir, onWarning: () => {} }) });
    assert.equal(await q.size(), 1);
    await q.close();
  });
});
