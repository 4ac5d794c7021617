import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The import rules of lib/ (.dependency-cruiser.cjs: no cycles, types included; core free of
 * config, Nest, Redis, SQS and the CLI; the CLI on core and config only), checked by
 * dependency-cruiser over the TypeScript sources.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');
const run = promisify(execFile);

async function cruise(cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(DEPCRUISE, ['lib', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
      cwd,
    });
    return { code: 0, output: stdout };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, output: failure.stdout + failure.stderr };
  }
}

describe('the import graph of lib/', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'nest-resilience-imports-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('has no cycle and crosses no layer', async () => {
    const { code, output } = await cruise(ROOT);
    assert.equal(code, 0, output);
    const [, modules] = /\((\d+) modules/.exec(output) ?? [];
    assert.ok(Number(modules) > 150, `dependency-cruiser read lib/ (${modules} modules): ${output}`);
  });

  it('the rules catch a cycle made of type imports and a core file importing the Nest layer', async () => {
    for (const file of ['.dependency-cruiser.cjs', 'tsconfig.json'])
      copyFileSync(join(ROOT, file), join(scratch, file));
    mkdirSync(join(scratch, 'lib', 'core'), { recursive: true });
    mkdirSync(join(scratch, 'lib', 'nest'), { recursive: true });
    mkdirSync(join(scratch, 'lib', 'cli'), { recursive: true });
    writeFileSync(
      join(scratch, 'lib/core/breaker.ts'),
      "import type { Options } from '../nest/options.js';\nexport const open = (o: Options) => o.limit;\n",
    );
    writeFileSync(
      join(scratch, 'lib/nest/options.ts'),
      "import type { open } from '../core/breaker.js';\nexport interface Options { limit: number; open?: typeof open }\n",
    );
    writeFileSync(
      join(scratch, 'lib/cli/main.ts'),
      "import { open } from '../core/breaker.js';\nimport type { Options } from '../nest/options.js';\nexport const main = (o: Options) => open(o);\n",
    );
    const { code, output } = await cruise(scratch);
    assert.notEqual(code, 0, output);
    for (const rule of ['no-circular', 'core-is-framework-free', 'cli-only-core-and-config']) {
      assert.match(output, new RegExp(`error ${rule}`), `${rule} reported:\n${output}`);
    }
  });
});
