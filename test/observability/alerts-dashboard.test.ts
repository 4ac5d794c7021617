import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as prom from 'prom-client';
import { Registry } from 'prom-client';
import { ResilienceMetrics } from '../../lib/index.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Every series name the module can export: each metric, and a histogram's _bucket / _sum / _count. */
async function exportedSeries(): Promise<Set<string>> {
  const registry = new Registry();
  new ResilienceMetrics(prom, '', registry);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

/** Metric names a PromQL expression reads (identifiers not followed by '(' and not label names or keywords). */
function metricsIn(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '');
  const keywords = new Set([
    'by',
    'sum',
    'avg',
    'min',
    'max',
    'count',
    'stddev',
    'topk',
    'bottomk',
    'quantile',
    'group',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'and',
    'or',
    'unless',
    'bool',
  ]);
  const names: string[] = [];
  for (const match of withoutLabels.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (match[2] || keywords.has(match[1])) continue;
    names.push(match[1]);
  }
  // Label names inside by (...) are not metrics.
  const grouped = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1].split(',').map((l) => l.trim()),
  );
  return names.filter((n) => !grouped.includes(n));
}

describe('alert rules', () => {
  it('pass their promtool unit tests (each fires when it should and stays silent otherwise)', async () => {
    const { stdout, stderr } = await run('promtool', ['test', 'rules', 'alerts/resilience.rules.test.yml'], {
      cwd: root,
    });
    assert.match(`${stdout}${stderr}`, /SUCCESS/);
  });

  it('pass promtool check and read only metrics the module exports', async () => {
    await run('promtool', ['check', 'rules', 'alerts/resilience.rules.yml'], { cwd: root });
    const exported = await exportedSeries();
    const rules = readFileSync(`${root}alerts/resilience.rules.yml`, 'utf8');
    const exprs = [...rules.matchAll(/expr: (.+)/g)].map((m) => m[1]);
    assert.equal(
      exprs.length,
      8,
      "the guide's four, the two troubleshooting rules, the bulkhead's and the shared breaker's",
    );
    for (const expr of exprs)
      for (const name of metricsIn(expr)) assert.ok(exported.has(name), `${name} (in ${expr}) is not exported`);
  });
});

describe('Grafana dashboard', () => {
  it('queries only metrics the module exports, and covers breakers, rejections, retries and the DLQ', async () => {
    const dashboard = JSON.parse(readFileSync(`${root}dashboards/resilience.json`, 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exported = await exportedSeries();
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0, panel.title);
      for (const { expr } of panel.targets) {
        for (const name of metricsIn(expr)) {
          assert.ok(exported.has(name), `${name} in "${panel.title}" is not exported`);
          used.add(name);
        }
      }
    }
    for (const needed of [
      'circuit_breaker_state',
      'rate_limit_rejections_total',
      'retries_total',
      'dlq_size',
      'dlq_oldest_message_age_seconds',
      'bulkhead_concurrency',
      'bulkhead_limit',
      'bulkhead_queue_size',
      'bulkhead_rejections_total',
      'bulkhead_limit_swings_total',
      'circuit_breaker_store_errors_total',
      'circuit_breaker_replicas_open',
      'circuit_breaker_replicas_live',
    ]) {
      assert.ok(used.has(needed), `no panel shows ${needed}`);
    }
  });
});
