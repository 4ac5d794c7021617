import type { Advice } from './analyze.js';
import type { PrometheusClient, Series } from './prometheus.js';

const STEP = 300;

/** The increase over the window of a series of per-step increases. */
const total = (series: Series | undefined) => (series ? series.points.reduce((a, [, v]) => a + v, 0) : 0);
const pct = (value: number) => `${(value * 100).toFixed(1)}%`;

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * The guide's troubleshooting table beyond the breaker: excessive retries (retry_attempts),
 * rate-limit false positives (requests_total, rate_limit_rejections_total) and a dead-letter
 * queue nobody processes (dlq_added_total, dlq_oldest_message_age_seconds).
 */
export async function patternAdvice(
  prometheus: PrometheusClient,
  window: { start: number; end: number },
  onlyService?: string,
): Promise<Advice[]> {
  const { start, end } = window;
  // Counters are differenced per pod, then added (see PrometheusClient.increases).
  const increases = (counter: string, by: string) => prometheus.increases(counter, [by], start, end, STEP);
  const advice: Advice[] = [];

  const counts = await increases(prometheus.metric('retryAttempts', '_count'), 'operation');
  const sums = await increases(prometheus.metric('retryAttempts', '_sum'), 'operation');
  const once = await increases(`${prometheus.metric('retryAttempts', '_bucket')}{le="1"}`, 'operation');
  const upTo3 = await increases(`${prometheus.metric('retryAttempts', '_bucket')}{le="3"}`, 'operation');
  for (const series of counts) {
    const operation = series.labels.operation;
    if (onlyService && operation !== onlyService) continue;
    const calls = total(series);
    if (calls < 1000) continue;
    const find = (list: Series[]) => list.find((s) => s.labels.operation === operation);
    const attempts = total(find(sums));
    const retried = 1 - total(find(once)) / calls;
    const beyond3 = 1 - total(find(upTo3)) / calls;
    if (retried <= 0.1) continue;
    advice.push({
      service: operation,
      finding: `excessive retries: ${pct(retried)} of calls needed a retry, ${(attempts / calls).toFixed(2)} attempts per call`,
      evidence: [
        `${Math.round(calls)} calls, ${Math.round(attempts - calls)} retries; ${pct(beyond3)} of calls needed more than 3 attempts`,
      ],
      rule: `the guide's troubleshooting, excessive retries: "Reduce max_attempts to 3-5, add circuit breaker" (a dependency that fails this often is down, not flaky)`,
      patch: [
        'services:',
        `  ${operation}:`,
        '    retry:',
        '      maxAttempts: 3',
        '    circuit:',
        '      enabled: true',
      ].join('\n'),
    });
  }

  const requests = await increases(prometheus.metric('requests'), 'key');
  const rejections = await increases(prometheus.metric('rateRejections'), 'key');
  for (const series of requests) {
    const limiter = series.labels.key;
    if (onlyService && limiter !== onlyService) continue;
    const perStep = series.points.map(([, v]) => v);
    const decided = perStep.reduce((a, b) => a + b, 0);
    const refused = total(rejections.find((s) => s.labels.key === limiter));
    if (decided < 1000 || refused / decided <= 0.01) continue;
    const peakPerMinute = Math.ceil(quantile(perStep, 0.99) / (STEP / 60));
    advice.push({
      service: limiter,
      finding: `rate-limit false positives? ${pct(refused / decided)} of requests were refused`,
      evidence: [
        `${Math.round(decided)} requests, ${Math.round(refused)} refused; demand at its 99th percentile: ${peakPerMinute} a minute`,
      ],
      rule: `the guide's troubleshooting, rate-limit false positives: "Increase rate or burst based on metrics"; burst 10-20% of rate; the rate must stay under max_capacity x 0.8 / replicas (check the capacity before applying this)`,
      patch: [
        'rateLimiters:',
        `  ${limiter}:`,
        `    rate: ${peakPerMinute}`,
        '    per: 60',
        `    burst: ${Math.ceil(peakPerMinute * 0.2)}`,
      ].join('\n'),
    });
  }

  const added = await increases(prometheus.metric('dlqAdded'), 'queue');
  const oldest = await prometheus.range(`max by (queue) (${prometheus.metric('dlqOldest')})`, start, end, STEP);
  for (const series of oldest) {
    const queue = series.labels.queue;
    if (onlyService && queue !== onlyService) continue;
    const maxAge = Math.max(...series.points.map(([, v]) => v));
    if (maxAge < 3 * 86_400) continue;
    const hourly = (added.find((s) => s.labels.queue === queue)?.points ?? []).map(([, v]) => v);
    const perHour: number[] = [];
    for (let i = 0; i < hourly.length; i += 3600 / STEP)
      perHour.push(hourly.slice(i, i + 3600 / STEP).reduce((a, b) => a + b, 0));
    const p99Hourly = quantile(perHour, 0.99);
    advice.push({
      service: queue,
      finding: `dead letters never processed: the oldest letter reached ${(maxAge / 86_400).toFixed(1)} days`,
      evidence: [`inflow: ${quantile(perHour, 0.5)} letters an hour (median), ${p99Hourly} at the 99th percentile`],
      rule: `the guide's troubleshooting, DLQ overflow: "Reduce retention, implement replay job"; alert threshold from the normal failure rate (here 3x the 99th-percentile hourly inflow), retention 7-30 days`,
      patch: [
        'deadLetter:',
        '  queues:',
        `    ${queue}:`,
        '      retentionDays: 7',
        `      alertThreshold: ${Math.max(10, Math.ceil(3 * p99Hourly))}`,
      ].join('\n'),
    });
  }
  return advice;
}
