import type { PrometheusClient, Series } from './prometheus.js';

/** One arm of a gradual rollout over the window. */
export interface ArmFigures {
  calls: number;
  failures: number;
  rejections: number;
  opens: number;
}

export interface RolloutVerdict {
  service: string;
  stable: ArmFigures;
  rollout: ArmFigures;
  decision: 'promote' | 'hold' | 'roll back';
  reasons: string[];
}

/** Calls an arm must have served before its rates mean anything. */
const MIN_ROLLOUT_CALLS = 1000;
/** A rate this much worse (relative), and at least 0.1 point worse, is worse. */
const WORSE = 1.2;

/** The total increase of each series of per-step increases over the window. */
function totals(series: Series[], key: (labels: Record<string, string>) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const { labels, points } of series) {
    const sum = points.reduce((a, [, v]) => a + v, 0);
    out.set(key(labels), (out.get(key(labels)) ?? 0) + sum);
  }
  return out;
}

const rate = (part: number, whole: number) => (whole > 0 ? part / whole : 0);
const pct = (value: number) => `${(value * 100).toFixed(2)}%`;

/**
 * The guide's "A/B test changes": for each service in gradual rollout, both arms on the same
 * traffic (calls from rollout_calls_total, failures, rejections and openings of each arm's
 * breaker, `<service>@rollout` for the new one) and a verdict: promote, hold or roll back.
 */
export async function compareRollouts(
  prometheus: PrometheusClient,
  window: { start: number; end: number },
  onlyService?: string,
): Promise<RolloutVerdict[]> {
  const { start, end } = window;
  const step = 300;
  // Counters are differenced per pod, then added (see PrometheusClient.increases).
  const calls = totals(
    await prometheus.increases(prometheus.metric('rolloutCalls'), ['service', 'arm'], start, end, step),
    (l) => `${l.service}|${l.arm}`,
  );
  const byService = (counter: string) =>
    prometheus.increases(counter, ['service'], start, end, step).then((series) => totals(series, (l) => l.service));
  const failures = await byService(prometheus.metric('failures'));
  const rejections = await byService(prometheus.metric('rejections'));
  const opens = await byService(`${prometheus.metric('transitions')}{from="closed",to="open"}`);
  const services = new Set([...calls.keys()].map((k) => k.split('|')[0]));
  const verdicts: RolloutVerdict[] = [];
  for (const service of [...services].sort()) {
    if (onlyService && service !== onlyService) continue;
    const arm = (name: string, breaker: string): ArmFigures => ({
      calls: calls.get(`${service}|${name}`) ?? 0,
      failures: failures.get(breaker) ?? 0,
      rejections: rejections.get(breaker) ?? 0,
      opens: opens.get(breaker) ?? 0,
    });
    const stable = arm('stable', service);
    const rollout = arm('rollout', `${service}@rollout`);
    verdicts.push({ service, stable, rollout, ...decide(stable, rollout) });
  }
  return verdicts;
}

function decide(stable: ArmFigures, rollout: ArmFigures): Pick<RolloutVerdict, 'decision' | 'reasons'> {
  if (rollout.calls < MIN_ROLLOUT_CALLS) {
    return {
      decision: 'hold',
      reasons: [`the rollout arm served ${rollout.calls} calls; its rates mean something from ${MIN_ROLLOUT_CALLS}`],
    };
  }
  const reasons: string[] = [];
  let worse = false;
  for (const [what, s, r] of [
    ['failure rate', rate(stable.failures, stable.calls), rate(rollout.failures, rollout.calls)],
    ['rejection rate', rate(stable.rejections, stable.calls), rate(rollout.rejections, rollout.calls)],
  ] as const) {
    const isWorse = r > s * WORSE && r - s > 0.001;
    worse ||= isWorse;
    reasons.push(`${what}: ${pct(r)} on the rollout arm, ${pct(s)} on the stable one${isWorse ? ' (worse)' : ''}`);
  }
  const opensPerCall = (a: ArmFigures) => rate(a.opens, a.calls) * 10_000;
  reasons.push(
    `breaker openings per 10,000 calls: ${opensPerCall(rollout).toFixed(2)} on the rollout arm, ${opensPerCall(stable).toFixed(2)} on the stable one`,
  );
  return { decision: worse ? 'roll back' : 'promote', reasons };
}

/** The verdicts as text. */
export function formatRollouts(verdicts: RolloutVerdict[]): string[] {
  const out: string[] = [];
  for (const v of verdicts) {
    const share = pct(rate(v.rollout.calls, v.rollout.calls + v.stable.calls));
    out.push(
      `${v.service}: rollout ${v.decision} (rollout arm ${v.rollout.calls} calls, ${share} of traffic; stable ${v.stable.calls})`,
    );
    for (const reason of v.reasons) out.push(`  evidence: ${reason}`);
    out.push('  evidence: added latency is not in the metrics: record a trace of both arms and run simulate');
    out.push(
      `  rule: the guide's "A/B test changes": the new configuration on part of the same traffic, compared before it goes to all`,
    );
    if (v.decision === 'promote')
      out.push(
        `  patch: move services.${v.service}.rollout's settings into services.${v.service}, then remove rollout`,
      );
    if (v.decision === 'roll back') out.push(`  patch: remove services.${v.service}.rollout (or set its percent to 0)`);
  }
  return out;
}
