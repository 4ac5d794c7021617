import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lastValueFrom, map } from 'rxjs';
import { observableAndPromise } from '../../lib/nest/observable-and-promise.js';

const run = promisify(execFile);
const MODULE = new URL('../../lib/nest/observable-and-promise.js', import.meta.url).href;

describe('the answer of a call whose declared type could not tell Observable from Promise', () => {
  it('is an Observable (pipe, lastValueFrom) and a thenable (await) of the one call', async () => {
    let calls = 0;
    const result = observableAndPromise(
      (async () => {
        calls++;
        return 21;
      })(),
    );
    assert.equal(await lastValueFrom(result.pipe(map((n) => n * 2))), 42);
    assert.equal(await lastValueFrom(result), 21);
    assert.equal(await result, 21);
    assert.equal(calls, 1, 'subscribing and awaiting do not call again');
  });

  it('a failure reaches the subscriber, the awaiter, and unhandledRejection when nobody takes it', async () => {
    const failing = () => observableAndPromise(Promise.reject(new Error('down')));
    await assert.rejects(lastValueFrom(failing()), /down/);
    await assert.rejects(async () => await failing(), /down/);
    // In a process of its own: the test runner takes unhandled rejections for its own failures.
    const script = `import { observableAndPromise } from ${JSON.stringify(MODULE)};
process.on('unhandledRejection', (reason) => console.log('unhandled:', reason.message));
observableAndPromise(Promise.reject(new Error('down')));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(stdout.trim(), 'unhandled: down');
  });
});
