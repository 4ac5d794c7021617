import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PATTERN_NAMES, PATTERN_SETTINGS } from '../../lib/config/patterns/index.js';
import { STAGE_ORDER } from '../../lib/core/pipeline/order.js';
import { definedPatterns } from '../../lib/nest/descriptors/index.js';
import { ResilienceModule } from '../../lib/nest/index.js';
import { NEST_PATTERNS } from '../../lib/nest/patterns.js';

describe('the pattern tables (config and Nest) describe the same patterns', () => {
  it('one Nest entry or one descriptor per stage kind, in the order calls run through them, each with its settings section', () => {
    // A timeout per attempt is the timeout pattern's other kind (its factory picks it); the
    // kinds of patterns defined through a descriptor (hedge, coalesce) come from their descriptors.
    const described = new Set(definedPatterns().map((pattern) => pattern.kind));
    assert.deepEqual([...described].sort(), ['chaos', 'coalesce', 'fallback', 'hedge']);
    assert.deepEqual(
      NEST_PATTERNS.map((pattern) => pattern.kind),
      STAGE_ORDER.filter((kind) => kind !== 'attempt_timeout' && !described.has(kind)),
    );
    // A pattern with no settings section (the fallback: a function) has none in the configuration's table.
    assert.deepEqual(NEST_PATTERNS.flatMap((pattern) => pattern.settings ?? []).sort(), [...PATTERN_NAMES].sort());
    for (const name of PATTERN_NAMES) assert.equal(PATTERN_SETTINGS[name].key, name);
  });

  it("the module provides and exports every pattern's service, and provides every stage factory", () => {
    const providers: unknown[] = Reflect.getMetadata('providers', ResilienceModule);
    const exported: unknown[] = Reflect.getMetadata('exports', ResilienceModule);
    for (const { service, stage } of NEST_PATTERNS) {
      assert.ok(providers.includes(stage), `${stage.name} is provided`);
      if (!service) continue;
      assert.ok(providers.includes(service), `${service.name} is provided`);
      assert.ok(exported.includes(service), `${service.name} is exported`);
    }
  });
});
