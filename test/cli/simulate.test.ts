import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_FLAGS } from '../support/chromium.js';

const BIN = fileURLToPath(new URL('../../lib/cli/bin.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nest-resilience-sim-'));

/**
 * A recorded day in miniature: a call every 100 ms for 600 s; the dependency refused every
 * connection from 100 s to 220 s (a 120 s outage) and answered in 20 ms otherwise.
 */
function outageTrace(): string {
  const start = Date.UTC(2026, 11, 1);
  const lines: string[] = [];
  for (let i = 0; i < 6000; i++) {
    const t = start + i * 100;
    const down = i * 100 >= 100_000 && i * 100 < 220_000;
    lines.push(
      JSON.stringify(
        down
          ? {
              t,
              service: 'payments',
              arm: 'stable',
              latency: 5,
              outcome: 'error',
              error: 'ConnectionError',
              attempts: 1,
            }
          : { t, service: 'payments', arm: 'stable', latency: 20, outcome: 'ok', attempts: 1 },
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

const tracePath = join(dir, 'payments.jsonl');
writeFileSync(tracePath, outageTrace());

/** A configuration for `payments` with only a breaker (no limiter, no retry: figures by construction). */
function config(name: string, circuit: object): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      services: {
        payments: {
          circuit: { timeoutMultiplier: 1, ...circuit },
          retry: { enabled: false },
          rate: { enabled: false },
        },
      },
    }),
  );
  return path;
}

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const { NODE_ENV: _, ...env } = process.env;
    execFile(process.execPath, [BIN, ...args], { env }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

/** The value of `row` in each configuration's column. */
function column(stdout: string, row: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(row));
  assert.ok(line, `no row "${row}" in:\n${stdout}`);
  return line.slice(row.length).trim().split(/\s+/);
}

describe('nest-resilience simulate', () => {
  it('an outage of known length: failureThreshold 2 against 10, figures known by construction', async () => {
    const two = config('threshold-2.json', { failureThreshold: 2, successThreshold: 1, timeout: 30 });
    const ten = config('threshold-10.json', { failureThreshold: 10, successThreshold: 1, timeout: 30 });
    const { code, stdout, stderr } = await cli('simulate', '--trace', tracePath, '--config', two, '--config', ten);
    assert.equal(code, 0, stderr);
    assert.deepEqual(column(stdout, 'calls'), ['6000', '6000']);
    // 2 (or 10) failures open it; trials about 30, 60 and 90 s later fail; the fourth finds it back.
    assert.deepEqual(column(stdout, 'calls sent to a failing downstream'), ['5', '13']);
    assert.deepEqual(column(stdout, 'breaker opens'), ['4', '4']);
    // A failure counts when it ends (5 ms after its call started), so each open period of 30 s
    // turns away 300 calls (every 100 ms), the one at its very end included: 4 x 300.
    assert.deepEqual(column(stdout, 'breaker rejections'), ['1200', '1200']);
    assert.deepEqual(column(stdout, 'admitted'), ['4800', '4800']);
    assert.deepEqual(column(stdout, 'failed calls'), ['5', '13']);
    // As the app keeps them: each failed call, and each call the open breaker turned away.
    assert.deepEqual(column(stdout, 'dead letters'), ['1205', '1213']);
    assert.deepEqual(column(stdout, 'retries'), ['0', '0']);
    assert.deepEqual(column(stdout, 'flaps (re-open within one open period)'), ['0', '0']);
  });

  it("the guide's gradual rollout: old (threshold 10, 60 s) against new (threshold 5, 90 s) on the same traffic", async () => {
    const old = config('old.json', { failureThreshold: 10, timeout: 60 });
    const next = config('new.json', { failureThreshold: 5, timeout: 90 });
    const { code, stdout, stderr } = await cli('simulate', '--trace', tracePath, '--config', old, '--config', next);
    assert.equal(code, 0, stderr);
    // old: open after 10, one failed trial at +60 s, back at +120 s; new: open after 5, one failed
    // trial at +90 s, back at +180 s (60 s after the dependency was: the cost of the longer timeout).
    assert.deepEqual(column(stdout, 'calls sent to a failing downstream'), ['11', '6']);
    // Open periods of 60 s (2 x 600 calls turned away) against 90 s (2 x 900).
    assert.deepEqual(column(stdout, 'breaker rejections'), ['1200', '1800']);
    assert.deepEqual(column(stdout, 'breaker opens'), ['2', '2']);
  });

  it('--gate: exit 1 when the proposal is worse by the analysis thresholds (with why), 0 when it is not', async () => {
    const current = config('gate-current.json', { failureThreshold: 10, timeout: 60 });
    // A longer open time turns away 1,800 calls instead of 1,200: 30% against 20% of 6,000.
    const worse = config('gate-worse.json', { failureThreshold: 5, timeout: 90 });
    const failed = await cli('simulate', '--trace', tracePath, '--config', current, '--config', worse, '--gate');
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(
      failed.stdout,
      /gate: FAILED: the proposed configuration is worse than the current one on 6000 recorded calls/,
    );
    assert.match(
      failed.stdout,
      /rejection rate 30\.00% on the proposed one, 20\.00% on the current configuration \(more than 1\.00% worse\)/,
    );
    const tolerant = await cli(
      'simulate',
      '--trace',
      tracePath,
      '--config',
      current,
      '--config',
      worse,
      '--gate',
      '--max-rejection-rate-increase',
      '0.15',
    );
    assert.equal(tolerant.code, 0, tolerant.stdout);
    assert.match(tolerant.stdout, /gate: passed/);
    const same = await cli('simulate', '--trace', tracePath, '--config', current, '--config', current, '--gate');
    assert.equal(same.code, 0);
    const usage = await cli('simulate', '--trace', tracePath, '--config', current, '--gate');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--gate compares two configurations/);
    const bad = await cli(
      'simulate',
      '--trace',
      tracePath,
      '--config',
      current,
      '--config',
      worse,
      '--gate',
      '--max-p99-increase',
      'x',
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-p99-increase must be a number >= 0, got "x"/);
  });

  it('retries: extra downstream load and added latency follow the backoff', async () => {
    const retrying = join(dir, 'retrying.json');
    writeFileSync(
      retrying,
      JSON.stringify({
        services: {
          payments: {
            circuit: { enabled: false },
            rate: { enabled: false },
            retry: { maxAttempts: 3, baseDelay: 1, exponentialBase: 2, jitter: false },
          },
        },
      }),
    );
    const { code, stdout, stderr } = await cli('simulate', '--trace', tracePath, '--config', retrying);
    assert.equal(code, 0, stderr);
    // 1200 calls in the outage, each tried 3 times (waits of 1 s and 2 s), none gets through; the
    // last few before the end of the outage get through on a retry.
    const retries = Number(column(stdout, 'retries')[0]);
    assert.ok(retries >= 2370 && retries <= 2400, `retries ${retries}`);
    assert.deepEqual(column(stdout, 'added latency p99 (ms)'), ['3010.0']);
  });

  it('the bulkhead runs as in the app: slots, its queue and the queue timeout on recorded time', async () => {
    // A call every 100 ms that takes 250 ms: three overlap at each arrival, so two slots turn
    // away every third call (calls 2, 5, 8...) when nothing may wait.
    const slow = join(dir, 'slow.jsonl');
    const start = Date.UTC(2026, 11, 2);
    const lines = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({
        t: start + i * 100,
        service: 'reports',
        arm: 'stable',
        latency: 250,
        outcome: 'ok',
        attempts: 1,
      }),
    );
    writeFileSync(slow, `${lines.join('\n')}\n`);
    const bulkhead = (name: string, settings: object) => {
      const path = join(dir, name);
      const reports = {
        circuit: { enabled: false },
        rate: { enabled: false },
        retry: { enabled: false },
        bulkhead: { enabled: true, ...settings },
      };
      writeFileSync(path, JSON.stringify({ services: { reports } }));
      return path;
    };
    const noQueue = bulkhead('no-queue.json', { maxConcurrent: 2, maxQueue: 0 });
    // Queued calls wait for a slot; the slots serve 8 calls a second of the 10 offered, so waits
    // grow: 50, 50, 100, 100 ms, then a call that would wait 150 ms gives up at 100 ms (one in
    // five from call 6 on). A slot freed at the very instant a waiting call's deadline falls goes
    // to it (its release was scheduled first, as Node would run the two timers). With 30 ms, the
    // third call of each group gives up before a slot frees, as with no queue.
    const longWait = bulkhead('wait-100.json', { maxConcurrent: 2, maxQueue: 5, queueTimeout: 0.1 });
    const shortWait = bulkhead('wait-30.json', { maxConcurrent: 2, maxQueue: 5, queueTimeout: 0.03 });
    const { code, stdout, stderr } = await cli(
      'simulate',
      ...['--trace', slow, '--config', noQueue, '--config', longWait, '--config', shortWait],
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(column(stdout, 'bulkhead rejections'), ['10', '5', '10']);
    assert.deepEqual(column(stdout, 'admitted'), ['20', '25', '20']);
    // Turned away calls are kept as letters, as the app keeps them.
    assert.deepEqual(column(stdout, 'dead letters'), ['10', '5', '10']);
    // Time spent waiting for a slot (or until giving up), beyond the call's own.
    assert.deepEqual(column(stdout, 'added latency p99 (ms)'), ['0.0', '100.0', '30.0']);
    assert.doesNotMatch(stdout, /not simulated/);
  });

  it("the rate limiter's wait mode queues calls instead of refusing them", async () => {
    // 20 calls a second against a limit of 10 a second.
    const busy = join(dir, 'busy.jsonl');
    const start = Date.UTC(2026, 11, 3);
    const lines = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ t: start + i * 50, service: 'search', arm: 'stable', latency: 5, outcome: 'ok', attempts: 1 }),
    );
    writeFileSync(busy, `${lines.join('\n')}\n`);
    const limited = (name: string, rate: object) => {
      const path = join(dir, name);
      const search = { circuit: { enabled: false }, rate: { rate: 10, per: 1, burst: 0, ...rate } };
      writeFileSync(path, JSON.stringify({ services: { search } }));
      return path;
    };
    const reject = limited('reject.json', { mode: 'reject' });
    const wait = limited('wait.json', { mode: 'wait', maxWait: 10 });
    const { code, stdout, stderr } = await cli('simulate', '--trace', busy, '--config', reject, '--config', wait);
    assert.equal(code, 0, stderr);
    // The bucket starts full (10 tokens), then refills one every 100 ms: 10 + 19 tokens in 1.95 s;
    // 'reject' refuses the other 11, 'wait' queues them, the last (at 1.95 s) until its token at 3.0 s.
    assert.deepEqual(column(stdout, '429s (rate limited)'), ['11', '0']);
    assert.deepEqual(column(stdout, 'admitted'), ['29', '40']);
    assert.deepEqual(column(stdout, 'added latency p99 (ms)'), ['0.0', '1050.0']);
    assert.doesNotMatch(stdout, /simulated as 'reject'/);
  });

  it('writes a self-contained HTML report that headless Chromium renders with one chart per configuration', async () => {
    const two = config('threshold-2.json', { failureThreshold: 2, successThreshold: 1, timeout: 30 });
    const ten = config('threshold-10.json', { failureThreshold: 10, successThreshold: 1, timeout: 30 });
    const html = join(dir, 'report.html');
    const { code, stderr } = await cli(
      'simulate',
      '--trace',
      tracePath,
      '--config',
      two,
      '--config',
      ten,
      '--html',
      html,
    );
    assert.equal(code, 0, stderr);
    const page = readFileSync(html, 'utf8');
    assert.doesNotMatch(page, /<script|https?:\/\//, 'self-contained: no script, nothing fetched');
    const screenshot = join(dir, 'report.png');
    const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    const flags = ['--headless', ...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--window-size=1000,400'];
    const dom = await new Promise<string>((resolve, reject) =>
      execFile(CHROMIUM, [...flags, '--dump-dom', `file://${html}`], (error, out) =>
        error ? reject(error) : resolve(out),
      ),
    );
    // Three rows (the dependency and both configurations); the breaker bands in each configuration's.
    assert.equal((dom.match(/<figure>/g) ?? []).length, 3);
    assert.equal((dom.match(/class="state open"/g) ?? []).length, 8, 'four openings per configuration');
    await new Promise<void>((resolve, reject) =>
      execFile(CHROMIUM, [...flags, `--screenshot=${screenshot}`, `file://${html}`], (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    const png = readFileSync(screenshot);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.ok(statSync(screenshot).size > 5000, 'a screenshot with something drawn');
  });

  it('bad input: a missing option, a bad configuration, an unknown service are errors (exit 2)', async () => {
    assert.match((await cli('simulate', '--trace', tracePath)).stderr, /at least one --config/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ services: { payments: { circuit: { failureThreshold: 0 } } } }));
    const badRun = await cli('simulate', '--trace', tracePath, '--config', bad);
    assert.equal(badRun.code, 2);
    assert.match(badRun.stderr, /services\.payments\.circuit\.failureThreshold: must be >= 1, got 0/);
    const unknown = await cli('simulate', '--trace', tracePath, '--config', bad, '--service', 'ledger');
    assert.match(unknown.stderr, /no calls of service "ledger" \(it has: payments\)/);
  });
});
