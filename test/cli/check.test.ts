import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BAD } from '../support/bad-configs.js';

const BIN = fileURLToPath(new URL('../../lib/cli/bin.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nest-resilience-cli-'));
let files = 0;

function file(content: unknown, ext = 'json'): string {
  const path = join(dir, `config-${++files}.${ext}`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Runs the real command, as `npx nest-resilience ...` would. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** Runs `work` over `items`, `width` at a time (each is a process). */
async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}

describe('nest-resilience check', () => {
  it(`every bad configuration of the config tests (${BAD.length}): exit 2, each problem with its path`, async () => {
    const failures: string[] = [];
    await inBatches(BAD, 4, async ([what, config, fragments]) => {
      const { code, stdout } = await cli('check', file(config), '--format', 'json');
      const report = JSON.parse(stdout) as { errors: { path: string; message: string }[] };
      const lines = report.errors.map((i) => `${i.path}: ${i.message}`);
      if (code !== 2) failures.push(`${what}: exit ${code}`);
      for (const fragment of fragments) {
        if (!lines.some((line) => line.includes(fragment))) failures.push(`${what}: "${fragment}" not in ${lines}`);
      }
    });
    assert.deepEqual(failures, []);
  });

  it("a clean file exits 0; the guide's pre-deployment checks are warnings, exit 1 with --strict", async () => {
    const clean = await cli('check', file({ services: { payments: { tier: 'critical' } } }));
    assert.equal(clean.code, 0, clean.stdout);
    assert.match(clean.stdout, /valid$/m);
    const risky = file({ services: { payments: { circuit: { timeout: 10 } } } });
    const lenient = await cli('check', risky);
    assert.equal(lenient.code, 0);
    assert.match(lenient.stdout, /^warning services\.payments: Circuit timeout too short \(<30s\)$/m);
    const strict = await cli('check', risky, '--strict');
    assert.equal(strict.code, 1);
    const json = JSON.parse((await cli('check', risky, '--strict', '--format', 'json')).stdout);
    assert.deepEqual(json.errors, []);
    assert.deepEqual(json.warnings, [{ path: 'services.payments', message: 'Circuit timeout too short (<30s)' }]);
  });

  it('reads YAML, unwraps a whole application file with a resilience key, and points into it', async () => {
    const yaml = file(
      ['resilience:', '  services:', '    payments:', '      circuit:', '        failureThreshold: 0', ''].join('\n'),
      'yaml',
    );
    const { code, stdout } = await cli('check', yaml);
    assert.equal(code, 2);
    assert.match(stdout, /^error {3}services\.payments\.circuit\.failureThreshold: must be >= 1, got 0$/m);
  });

  it('a whole application file (server, database and resilience keys) is read as the app reads it: its resilience key', async () => {
    const yaml = file(
      [
        'server: { port: 3000 }',
        'database: { url: postgres://db/app }',
        'resilience:',
        '  services:',
        '    payments: { tier: critical }',
        '',
      ].join('\n'),
      'yaml',
    );
    const { code, stdout } = await cli('check', yaml);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /valid/);
    const misspelt = file(['server: { port: 3000 }', 'resillience:', '  defaultTier: critical', ''].join('\n'), 'yaml');
    const wrong = await cli('check', misspelt);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stdout, /has no "resilience" key but has "resillience": did you mean "resilience"\?/);
  });

  it('a file it cannot read or parse is an error naming the file (exit 2), never a crash', async () => {
    const missing = await cli('check', join(dir, 'nope.yaml'));
    assert.equal(missing.code, 2);
    assert.match(missing.stdout, /cannot read .*nope\.yaml/);
    const broken = await cli('check', file('{ "services": ', 'json'));
    assert.equal(broken.code, 2);
    assert.match(broken.stdout, /is not valid JSON/);
    const usage = await cli('check');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /expected one configuration file/);
    const unknown = await cli('simulat');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "simulat"/);
  });

  it('--explain prints each effective setting with the layer that set it and its why note', async () => {
    const layered = file(
      [
        'environment: production',
        'defaults:',
        '  retry:',
        '    maxAttempts: 4',
        '    why: four tries fit our 10 s budget',
        'tiers:',
        '  critical:',
        '    why: the provider recovers in about a minute',
        '    circuit:',
        '      timeout: 120',
        'services:',
        '  payments:',
        '    tier: critical',
        '    circuit:',
        '      failureThreshold: 3',
        '    rollout:',
        '      percent: 10',
        '      retry:',
        '        maxAttempts: 2',
        '',
      ].join('\n'),
      'yaml',
    );
    const { code, stdout } = await cli('check', layered, '--explain', 'payments');
    assert.equal(code, 0, stdout);
    const line = (field: string, section = 0) =>
      stdout
        .split('rollout arm')
        [section].split('\n')
        .find((l) => l.trimStart().startsWith(`${field}:`))
        ?.trim()
        .replace(/\s+/g, ' ');
    assert.equal(line('failureThreshold'), 'failureThreshold: 3 <- services.payments');
    assert.equal(line('timeout'), 'timeout: 120 <- tiers.critical why: the provider recovers in about a minute');
    // The tier table sets the critical tier's maxAttempts above `defaults`.
    assert.equal(line('maxAttempts'), 'maxAttempts: 5 <- tier table (critical)');
    assert.equal(line('successThreshold'), 'successThreshold: 3 <- environment profile (production)');
    assert.equal(line('halfOpenMaxCalls'), 'halfOpenMaxCalls: 1 <- base');
    assert.match(stdout, /rollout arm \(10% of calls\):/);
    assert.equal(line('maxAttempts', 1), 'maxAttempts: 2 <- services.payments.rollout');
    const json = JSON.parse((await cli('check', layered, '--explain', 'payments', '--format', 'json')).stdout);
    const retry = json.explain.settings.find((s: { field: string }) => s.field === 'baseDelay');
    assert.deepEqual(retry, { pattern: 'retry', field: 'baseDelay', value: 2, source: 'tier table (critical)' });
  });

  it('--explain shows where defaults win and where the tier table outranks them', async () => {
    const config = file({
      defaults: { retry: { maxAttempts: 4, maxDelay: 30, why: 'fits our 10 s budget' } },
      services: { search: { tier: 'standard' } },
    });
    const { stdout } = await cli('check', config, '--explain', 'search');
    assert.match(stdout, /maxDelay: 30\s+<- defaults {2}why: fits our 10 s budget/);
    assert.match(stdout, /maxAttempts: 3\s+<- tier table \(standard\)/);
  });
});
