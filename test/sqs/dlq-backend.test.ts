import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DeadLetterQueue, DeadLetterTooLargeError, presets, SqsDeadLetterBackend } from '../../lib/index.js';
import { deadLetterContract } from '../support/dlq-contract.js';
import { startSqs } from '../support/sqs-server.js';

let sqs: Awaited<ReturnType<typeof startSqs>>;
let queueUrl: string;
before(async () => {
  sqs = await startSqs();
  queueUrl = await sqs.createQueue('dlq');
});
after(() => sqs.stop());

describe('SQS dead-letter backend (contract, local SQS server)', () => {
  deadLetterContract(async () => new SqsDeadLetterBackend({ queueUrl, client: sqs.client }), { reopen: true });
});

describe('SQS dead-letter backend', () => {
  it("enforces the guide's 256 KB SQS limit before sending", async () => {
    const backend = new SqsDeadLetterBackend({ queueUrl, client: sqs.client });
    const q = new DeadLetterQueue({
      name: 'sqs',
      backend,
      maxMessageSize: presets.dlq.sqs.storageConfig.maxMessageSize,
      truncateOversized: false,
    });
    await q.purge();
    await assert.rejects(
      q.add({ args: [randomBytes(150_000).toString('hex')], error: new Error('big') }),
      DeadLetterTooLargeError,
    );
    assert.equal(await q.size(), 0);
    await q.add({ args: ['x'.repeat(1000)], error: new Error('fits') });
    assert.equal(await q.size(), 1);
  });
});
