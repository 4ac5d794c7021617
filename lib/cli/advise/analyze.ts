import { type Episode, episodesOf, median } from './breaker-history.js';
import type { PrometheusClient } from './prometheus.js';

/** One proposed change, with what was measured and the guide's rule that asks for it. */
export interface Advice {
  service: string;
  finding: string;
  evidence: string[];
  rule: string;
  /** The change, as the YAML a configuration file would hold. */
  patch: string;
}

export interface ServiceReport {
  service: string;
  /** Hours of metrics found for the service in the window. */
  hours: number;
  episodes: Episode[];
  advice: Advice[];
  /** Set when there is too little data to advise on. */
  tooLittleData?: string;
}

const MIN_HOURS = 24;

/** Reads the window's metrics of each breaker and applies the guide's tuning rules. */
export async function analyze(
  prometheus: PrometheusClient,
  window: { start: number; end: number },
  onlyService?: string,
): Promise<ServiceReport[]> {
  const { start, end } = window;
  const selector = onlyService ? `{service=${JSON.stringify(onlyService)}}` : '';
  const presence = await prometheus.range(
    `count by (service) (${prometheus.metric('state')}${selector})`,
    start,
    end,
    3600,
  );
  // The counters themselves, per minute, differenced here per pod, then added: exact counts
  // (increase() over a one-minute window extrapolates, and a window needs two samples inside it).
  const transitions = await prometheus.increases(
    `${prometheus.metric('transitions')}${selector}`,
    ['service', 'from', 'to'],
    start,
    end,
    60,
  );
  // A rollout arm's breaker (`<service>@rollout`) is judged by the rollout comparison.
  const services = new Set(
    [...presence, ...transitions].map((s) => s.labels.service).filter((s) => s && !s.endsWith('@rollout')),
  );
  if (onlyService) services.add(onlyService);
  const reports: ServiceReport[] = [];
  for (const service of [...services].sort()) {
    // Hourly points: n of them span n - 1 hours.
    const hours = Math.max(0, (presence.find((s) => s.labels.service === service)?.points.length ?? 0) - 1);
    const episodes = episodesOf(transitions.filter((s) => s.labels.service === service));
    const report: ServiceReport = { service, hours, episodes, advice: [] };
    if (hours < MIN_HOURS) {
      report.tooLittleData = `${hours} hour${hours === 1 ? '' : 's'} of metrics for ${service}; the guide asks for one to two weeks before tuning, and this command for ${MIN_HOURS} hours at least`;
    } else {
      report.advice.push(...breakerAdvice(service, episodes));
    }
    reports.push(report);
  }
  return reports;
}

/** The guide's breaker rules: flapping (open time shorter than the outages) and the open time from MTTR. */
function breakerAdvice(service: string, episodes: Episode[]): Advice[] {
  if (episodes.length === 0) return [];
  const reopens = median(episodes.map((e) => e.reopens));
  const mttrSeconds = median(episodes.map((e) => e.end - e.start));
  if (reopens < 2 || mttrSeconds <= 0) return [];
  const openTime = mttrSeconds / (reopens + 1);
  const proposed = Math.round((2.5 * mttrSeconds) / 30) * 30;
  return [
    {
      service,
      finding: `flapping: the breaker re-opened ${reopens} times per outage (median of ${episodes.length}); its open time, about ${Math.round(openTime)} s, is far shorter than the outages`,
      evidence: [
        `${episodes.length} outages; from first opening to closing (the dependency's MTTR as the breaker saw it): median ${formatDuration(mttrSeconds)} (read per minute: +/- 1 min)`,
        `half-open trials that failed and re-opened it: median ${reopens} per outage, ${episodes.reduce((n, e) => n + e.reopens, 0)} in all`,
      ],
      rule: `the guide's troubleshooting, circuit breaker flapping: "Increase timeout to 2-3x MTTR" (here ${formatDuration(2 * mttrSeconds)} to ${formatDuration(3 * mttrSeconds)}). Above 5 min the guide warns of slow recovery: timeoutMultiplier 2 with maxTimeout ${proposed} reaches it only for long outages.`,
      patch: ['services:', `  ${service}:`, '    circuit:', `      timeout: ${proposed}`].join('\n'),
    },
  ];
}

function formatDuration(seconds: number): string {
  return seconds >= 120 ? `${(seconds / 60).toFixed(1)} min` : `${Math.round(seconds)} s`;
}

/** The reports as text: every suggestion with its evidence, rule and patch; "no changes" said plainly. */
export function formatReports(reports: ServiceReport[], days: number): string {
  if (reports.length === 0) return `no circuit breaker metrics in the last ${days} days: nothing to advise on`;
  const out: string[] = [];
  for (const r of reports) {
    if (r.tooLittleData) {
      out.push(`${r.service}: too little data to advise (${r.tooLittleData})`);
      continue;
    }
    if (r.advice.length === 0) {
      out.push(
        `${r.service}: no changes (${r.episodes.length} outage${r.episodes.length === 1 ? '' : 's'} in ${Math.round(r.hours / 24)} days, none with a flapping breaker)`,
      );
      continue;
    }
    for (const a of r.advice) out.push(...formatAdvice(a));
  }
  return out.join('\n');
}

/** One suggestion as text: the finding, its evidence, the rule, the patch. */
export function formatAdvice(a: Advice): string[] {
  return [
    `${a.service}: ${a.finding}`,
    ...a.evidence.map((e) => `  evidence: ${e}`),
    `  rule: ${a.rule}`,
    '  patch:',
    ...a.patch.split('\n').map((l) => `    ${l}`),
  ];
}
