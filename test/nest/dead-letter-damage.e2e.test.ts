import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { DeadLetter, DeadLetterService, ResilienceModule } from '../../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dlq-damage-nest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

@Injectable()
class Exports {
  @DeadLetter('exports', { rethrow: false })
  async run(n: number): Promise<void> {
    throw new Error(`export ${n} failed`);
  }
}

async function boot(logged: string[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [ResilienceModule.forRoot({ deadLetter: { storageBackend: 'file', storageConfig: { filePath: dir } } })],
    providers: [Exports],
  }).compile();
  moduleRef.useLogger({ log: () => {}, error: (m) => logged.push(String(m)), warn: (m) => logged.push(String(m)) });
  await moduleRef.init();
  return moduleRef;
}

async function damagedTotal(): Promise<number | undefined> {
  const metric = await register.getSingleMetric('dlq_damaged_total')?.get();
  return metric?.values.find((v) => v.labels.queue === 'exports')?.value;
}

describe('a damaged letter in the file log, through the Nest module', () => {
  it('is skipped, logged and counted by dlq_damaged_total; the rest list and replay', async () => {
    let moduleRef = await boot([]);
    for (let n = 0; n < 3; n++) await moduleRef.get(Exports).run(n);
    await moduleRef.close();
    // Bit rot inside the second letter's record.
    const queueDir = join(dir, 'exports');
    const file = join(queueDir, readdirSync(queueDir).find((n) => n.endsWith('.log')) as string);
    const data = readFileSync(file);
    const second = data.indexOf('export 1 failed');
    assert.ok(second > 0);
    data[second] ^= 0x20;
    writeFileSync(file, data);

    const logged: string[] = [];
    moduleRef = await boot(logged);
    try {
      const queue = moduleRef.get(DeadLetterService).queue('exports');
      const listed = await queue.list({ limit: 10 });
      assert.deepEqual(
        listed.items.map((l) => (l.args as unknown[])[0]),
        [0, 2],
      );
      assert.equal(await damagedTotal(), 1);
      assert.ok(
        logged.some((line) => /"exports".*cannot be read/.test(line) || /damaged/.test(line)),
        logged.join('\n'),
      );
      assert.equal(queue.damaged().total, 1);
    } finally {
      await moduleRef.close();
    }
  });
});
