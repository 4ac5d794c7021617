import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DeadLetterQueue, FileDeadLetterBackend } from '../../../lib/index.js';

const root = mkdtempSync(join(tmpdir(), 'dlq-damage-'));
after(() => rmSync(root, { recursive: true, force: true }));

const segment = (dir: string) => join(dir, readdirSync(dir).filter((n) => n.endsWith('.log'))[0]);

function open(dir: string, warnings: string[] = []) {
  return new DeadLetterQueue({
    name: 'd',
    backend: new FileDeadLetterBackend({ filePath: dir, onWarning: (w) => warnings.push(w) }),
  });
}

async function ids(q: DeadLetterQueue): Promise<string[]> {
  return (await q.list({ limit: 1000 })).items.map((l) => l.id);
}

/** Five letters; returns their ids and the byte offset where each record starts. */
async function fiveLetters(dir: string) {
  const q = open(dir);
  const letters = [];
  for (let i = 0; i < 5; i++) letters.push((await q.add({ args: [i, 'x'.repeat(100)], error: new Error('x') })).id);
  await q.close();
  const data = readFileSync(segment(dir));
  const starts: number[] = [];
  for (let i = data.indexOf(0x1e); i !== -1; i = data.indexOf(0x1e, i + 1)) starts.push(i);
  return { letters, starts, data };
}

describe('file dead-letter log: damage costs only the damaged records', () => {
  it('a corrupted delete record never brings the deleted letter back', async () => {
    const dir = join(root, 'delete');
    let q = open(dir);
    const keep = await q.add({ args: ['keep'], error: new Error('x') });
    const gone = await q.add({ args: ['gone'], error: new Error('x') });
    await q.delete(gone.id);
    const later = await q.add({ args: ['later'], error: new Error('x') });
    await q.close();
    const file = segment(dir);
    const data = readFileSync(file);
    const deleteRecord = data.indexOf('{"o":"d"') - 11;
    assert.equal(data[deleteRecord], 0x1e);
    data[deleteRecord + 20] ^= 0x01; // bit rot inside the delete record
    writeFileSync(file, data);
    const warnings: string[] = [];
    q = open(dir, warnings);
    assert.deepEqual(await ids(q), [keep.id, later.id]);
    assert.equal(await q.get(gone.id), undefined);
    assert.ok(
      warnings.some((w) => /damaged bytes/.test(w)),
      'the damage is reported',
    );
    await q.close();
  });

  for (const [what, byteOf] of [
    ['newline', (starts: number[]) => starts[2] - 1], // the newline that ends record 1
    ['record start (RS)', (starts: number[]) => starts[3]],
  ] as const) {
    it(`an overwritten ${what} costs no record`, async () => {
      const dir = join(root, what.replace(/\W/g, ''));
      const { letters, starts, data } = await fiveLetters(dir);
      data[byteOf(starts)] = 0x41;
      writeFileSync(segment(dir), data);
      const q = open(dir);
      assert.deepEqual(await ids(q), letters);
      await q.close();
    });
  }

  it('4 KiB of zeros costs only the records they cover', async () => {
    const dir = join(root, 'zeros');
    const q0 = open(dir);
    const letters: string[] = [];
    for (let i = 0; i < 40; i++) letters.push((await q0.add({ args: [i, 'y'.repeat(300)], error: new Error('x') })).id);
    await q0.close();
    const file = segment(dir);
    const data = readFileSync(file);
    const starts: number[] = [];
    for (let i = data.indexOf(0x1e); i !== -1; i = data.indexOf(0x1e, i + 1)) starts.push(i);
    const from = starts[10] + 50;
    data.fill(0, from, from + 4096);
    writeFileSync(file, data);
    // Records touched by [from, from + 4096): those whose bytes overlap it.
    const touched = new Set<number>();
    for (let r = 0; r < starts.length; r++) {
      const end = r + 1 < starts.length ? starts[r + 1] : data.length;
      if (starts[r] < from + 4096 && end > from) touched.add(r);
    }
    const warnings: string[] = [];
    const q = open(dir, warnings);
    assert.deepEqual(
      await ids(q),
      letters.filter((_, i) => !touched.has(i)),
    );
    assert.ok(touched.size <= 16, `${touched.size} records overlap 4 KiB`);
    assert.ok(warnings.some((w) => /damaged bytes/.test(w)));
    await q.close();
  });

  it('a byte changed while the queue is open: list() and replay() skip that letter, report it, and go on', async () => {
    const dir = join(root, 'live');
    const q = open(dir);
    const { letters, starts } = await (async () => {
      const ls = [];
      for (let i = 0; i < 3; i++) ls.push((await q.add({ args: [i], error: new Error('x') })).id);
      const data = readFileSync(segment(dir));
      const ss: number[] = [];
      for (let i = data.indexOf(0x1e); i !== -1; i = data.indexOf(0x1e, i + 1)) ss.push(i);
      return { letters: ls, starts: ss };
    })();
    const data = readFileSync(segment(dir));
    data[starts[1] + 40] ^= 0x02;
    writeFileSync(segment(dir), data);
    const damaged: (string | undefined)[] = [];
    q.on('damaged', (d) => damaged.push(d.id));
    assert.deepEqual(await ids(q), [letters[0], letters[2]]);
    const replayed: unknown[] = [];
    const report = await q.replay((l) => replayed.push((l.args as unknown[])[0]), { sleep: async () => {} });
    assert.deepEqual(replayed, [0, 2]);
    assert.equal(report.succeeded, 2);
    assert.ok(damaged.includes(letters[1]));
    assert.equal(q.damaged().recent.at(-1)?.id, letters[1]);
    await q.close();
  });

  it('reads a log written in the 0.1.0 format', async () => {
    const dir = join(root, 'legacy');
    const { crc32 } = await import('node:zlib');
    const letter = {
      id: '0mx00000a-000001-abcdef01',
      queue: 'd',
      source: {},
      args: [1],
      error: { name: 'Error', message: 'x' },
      attempts: 1,
      history: [],
      firstFailedAt: 1,
      lastFailedAt: 1,
      reason: 'failed',
      replays: 0,
      status: 'pending',
      createdAt: Date.now(),
    };
    const json = JSON.stringify({ o: 'a', id: letter.id, d: JSON.stringify(letter) });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'dlq.000001.log'), `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`);
    const q = open(dir);
    assert.deepEqual(await ids(q), [letter.id]);
    assert.equal(await q.delete(letter.id), true);
    await q.close();
    const again = open(dir);
    assert.deepEqual(await ids(again), []);
    await again.close();
  });
});
