/**
 * The metrics advise reads, with the labels it groups by: the names the module exports
 * (lib/nest/metrics), before `metrics.prefix`. A test checks them against the module's own
 * registry, so a renamed metric cannot leave advise silently finding nothing.
 */
export const ADVISE_METRICS = {
  state: { name: 'circuit_breaker_state', labels: ['service'] },
  transitions: { name: 'circuit_breaker_transitions_total', labels: ['service', 'from', 'to'] },
  failures: { name: 'circuit_breaker_failures_total', labels: ['service'] },
  rejections: { name: 'circuit_breaker_rejections_total', labels: ['service'] },
  rolloutCalls: { name: 'rollout_calls_total', labels: ['service', 'arm'] },
  retryAttempts: { name: 'retry_attempts', labels: ['operation'] },
  requests: { name: 'requests_total', labels: ['key'] },
  rateRejections: { name: 'rate_limit_rejections_total', labels: ['key'] },
  dlqAdded: { name: 'dlq_added_total', labels: ['queue'] },
  dlqOldest: { name: 'dlq_oldest_message_age_seconds', labels: ['queue'] },
} as const;

export type AdviseMetric = keyof typeof ADVISE_METRICS;
