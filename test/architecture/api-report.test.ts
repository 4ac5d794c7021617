import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The public API (the package's two entry points, as their declarations say) matches the
 * reports committed in api/. A change shows here as a diff; an intended one is recorded with
 * `npm run api:update` in the same commit, with its README and CHANGELOG lines.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXTRACTOR = join(ROOT, 'node_modules', '.bin', 'api-extractor');
const run = promisify(execFile);

const ENTRY_POINTS = [
  { name: 'nest-resilience', config: 'api/index.api-extractor.json', report: 'nest-resilience.api.md' },
  { name: 'nest-resilience/core', config: 'api/core.api-extractor.json', report: 'nest-resilience-core.api.md' },
];

describe('the public API report', () => {
  for (const entry of ENTRY_POINTS) {
    it(`${entry.name}: the declarations match api/${entry.report}`, async () => {
      let failure: { stdout?: string; stderr?: string } | undefined;
      try {
        await run(EXTRACTOR, ['run', '-c', entry.config], { cwd: ROOT });
      } catch (error) {
        failure = error as { stdout?: string; stderr?: string };
      }
      const committed = readFileSync(join(ROOT, 'api', entry.report), 'utf8');
      const current = readFileSync(join(ROOT, 'dist', 'api', entry.report), 'utf8');
      if (committed !== current) {
        const was = new Set(committed.split('\n'));
        const now = new Set(current.split('\n'));
        const gone = [...was].filter((line) => !now.has(line)).map((line) => `- ${line}`);
        const added = [...now].filter((line) => !was.has(line)).map((line) => `+ ${line}`);
        assert.fail(`the public API changed (npm run api:update records it):\n${[...gone, ...added].join('\n')}`);
      }
      assert.equal(failure, undefined, `api-extractor failed: ${failure?.stdout}${failure?.stderr}`);
      assert.match(current, /export class CircuitBreakerPolicy\b/, 'the report lists the API');
    });
  }
});
