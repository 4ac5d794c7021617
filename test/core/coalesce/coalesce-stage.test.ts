import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CoalesceOutcome,
  type CoalesceStageOptions,
  compose,
  coalesceStage as coreCoalesceStage,
  createContext,
} from '../../../lib/core/index.js';
import { argumentsKey } from '../../../lib/nest/descriptors/coalesce.js';

/** The core stage with the Nest layer's default key (the arguments' stable serialization). */
const coalesceStage = (options: Partial<CoalesceStageOptions> = {}) =>
  coreCoalesceStage({ key: argumentsKey, ...options });

describe('coalescing', () => {
  it('1,000 concurrent identical calls make one execution; the map is empty afterwards', async () => {
    let executions = 0;
    const stage = coalesceStage();
    const run = compose([stage]);
    let release!: (value: unknown) => void;
    const operation = () => {
      executions++;
      return new Promise((resolve) => {
        release = resolve;
      });
    };
    const calls = Array.from({ length: 1000 }, () => run(createContext(operation, [{ id: 7, fields: ['a', 'b'] }])));
    release({ id: 7 });
    const results = await Promise.all(calls);
    assert.equal(executions, 1);
    assert.ok(results.every((r) => (r as { id: number }).id === 7));
    // After it settled nothing is kept: the next call runs again.
    await run(createContext(() => executions++, [{ id: 7, fields: ['a', 'b'] }]));
    assert.equal(executions, 2);
  });

  it('arguments equal but for key order share; different arguments never do', async () => {
    let executions = 0;
    const run = compose([coalesceStage()]);
    const operation = () => new Promise((resolve) => setImmediate(() => resolve(++executions)));
    const [a, b, c] = await Promise.all([
      run(createContext(operation, [{ x: 1, y: 2 }])),
      run(createContext(operation, [{ y: 2, x: 1 }])),
      run(createContext(operation, [{ x: 1, y: 3 }])),
    ]);
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.equal(executions, 2);
  });

  it('an error is shared by every waiting caller', async () => {
    const run = compose([coalesceStage()]);
    let executions = 0;
    const operation = () =>
      new Promise((_, reject) => {
        executions++;
        setImmediate(() => reject(new Error('down')));
      });
    const calls = Array.from({ length: 10 }, () => run(createContext(operation, ['k'])));
    const settled = await Promise.allSettled(calls);
    assert.equal(executions, 1);
    assert.ok(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'down'));
  });

  it("a caller's abort leaves the shared execution running while others wait; the last one out aborts it", async () => {
    const run = compose([coalesceStage()]);
    let executionSignal: AbortSignal | undefined;
    let release!: (value: unknown) => void;
    const operation = (context: { signal?: AbortSignal }) => {
      executionSignal = context.signal;
      return new Promise((resolve) => {
        release = resolve;
      });
    };
    const first = new AbortController();
    const second = new AbortController();
    const a = run(createContext(operation, ['k'], { signal: first.signal }));
    const b = run(createContext(operation, ['k'], { signal: second.signal }));
    const c = run(createContext(operation, ['k']));
    first.abort(new Error('first caller gave up'));
    await assert.rejects(a, /first caller gave up/);
    assert.equal(executionSignal?.aborted, false, 'the others still wait');
    release('shared');
    assert.equal(await b, 'shared');
    assert.equal(await c, 'shared');

    const lone = new AbortController();
    const d = run(createContext(operation, ['k2'], { signal: lone.signal }));
    lone.abort(new Error('gone'));
    await assert.rejects(d, /gone/);
    assert.equal(executionSignal?.aborted, true, 'nobody waits: the execution is aborted');
  });

  it('beyond maxKeys executions in flight, calls run alone and are counted', async () => {
    const outcomes: CoalesceOutcome[] = [];
    const run = compose([coalesceStage({ maxKeys: 2, onCoalesce: (o) => outcomes.push(o) })]);
    let executions = 0;
    const operation = () => new Promise((resolve) => setImmediate(() => resolve(++executions)));
    await Promise.all(['a', 'b', 'c', 'a'].map((k) => run(createContext(operation, [k]))));
    assert.equal(executions, 3);
    assert.deepEqual(outcomes.sort(), ['joined', 'overflow']);
  });

  it('a key function picks what identifies a call; undefined runs the call alone', async () => {
    const run = compose([coalesceStage({ key: (c) => (c.args[0] === 'skip' ? undefined : String(c.args[0])) })]);
    let executions = 0;
    const operation = () => new Promise((resolve) => setImmediate(() => resolve(++executions)));
    await Promise.all([run(createContext(operation, ['skip'])), run(createContext(operation, ['skip']))]);
    assert.equal(executions, 2);
  });
});
