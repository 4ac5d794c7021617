import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

const require = createRequire(import.meta.url);

describe('one module state whichever way the package is loaded', () => {
  it('require() and import() of the package name give the same module (the ESM build)', async () => {
    // Self-reference through package.json "exports", as an app's require and import resolve it.
    const required = require('nest-resilience') as typeof import('../../lib/index.js');
    const imported = (await import('nest-resilience' as string)) as typeof import('../../lib/index.js');
    assert.equal(required.ResilienceModule, imported.ResilienceModule);
    assert.equal(required.RESILIENCE_REDIS, imported.RESILIENCE_REDIS);
    assert.match(require.resolve('nest-resilience'), /dist\/lib\/index\.js$/);
  });

  it('the CommonJS build, loaded beside the ESM one, shares DI tokens and metadata keys', async () => {
    const cjs = require('../../cjs/index.js') as typeof import('../../lib/index.js');
    const esm = await import('../../lib/index.js');
    assert.notEqual(cjs.ResilienceModule, esm.ResilienceModule, 'two builds are two copies of the code');
    for (const token of [
      'RESILIENCE_REDIS',
      'RESILIENCE_METRICS',
      'RESILIENCE_CLOCK',
      'RESILIENCE_SLEEP',
      'RESILIENCE_ROLLOUT',
    ] as const) {
      assert.equal(cjs[token], esm[token], `${token} is the same symbol`);
    }
    assert.equal(cjs.RESILIENCE_MODULE_OPTIONS, esm.RESILIENCE_MODULE_OPTIONS);
    // A method decorated by one build is recognised by the other (metadata keys are global symbols).
    class Decorated {
      async run() {}
    }
    const descriptor = Object.getOwnPropertyDescriptor(Decorated.prototype, 'run') as PropertyDescriptor;
    cjs.CircuitBreaker('shared')(Decorated.prototype, 'run', descriptor);
    const keys = Reflect.getMetadataKeys(descriptor.value).filter((k) => typeof k === 'symbol');
    assert.ok(keys.some((k) => k === Symbol.for('nest-resilience:method')));
  });
});
