// Types and the API client of the console page's script: the files of this folder are compiled for browsers
// (tsconfig.client.json) and served as one script, in the order of CLIENT_PARTS
// (page/console-script.ts), inside one function scope.

type State = 'closed' | 'open' | 'half_open';
interface Transition {
  from: State;
  to: State;
  at: number;
}
interface Breaker {
  name: string;
  tier: string;
  scope: string;
  state: State;
  forced: boolean;
  disabled: boolean;
  retryAfter: number | null;
  window: { calls: number; failures: number; consecutiveFailures: number };
  transitions: Transition[];
}
interface Limiter {
  name: string;
  policy: { rate: number; per: number; burst: number; strategy: string; mode: string; key: string };
  allowed: number;
  rejected: number;
  series: { rejected: (number | null)[]; allowed: (number | null)[] };
}
interface LimitMove {
  at: number;
  limit: number;
  previous: number;
  reason: string;
}
interface Swing {
  at: number;
  direction: 'down' | 'up';
  from: number;
  to: number;
  reason: string;
  withinMs: number;
}
interface Bulkhead {
  name: string;
  limit: number;
  inFlight: number;
  queued: number;
  adaptive: { phase: string; noLoadRttMs: number | null } | null;
  series: (number | null)[];
  changes: LimitMove[];
  swings: Swing[];
}
interface Queue {
  name: string;
  size: number | null;
  oldestAge: number | null;
  alerting: boolean;
  series: (number | null)[];
}
interface Rollout {
  service: string;
  effective: number;
  source: string;
  progress?: { step: number; percent: number; status: string; reasons: string[] };
}
interface ChaosExperiment {
  id: string;
  service: string;
  fault: string;
  error?: string;
  latencySeconds?: number;
  latency?: number | { min: number; max: number } | { mean: number; max?: number };
  rate: number;
  arm?: string;
  route?: string;
  key?: string;
  when?: true;
  scope?: 'local' | 'fleet';
  endsAt: string;
  startedBy: string;
}
interface Status {
  at: number;
  since: number;
  times: (number | null)[];
  breakers: Breaker[];
  limiters: Limiter[];
  bulkheads: Bulkhead[];
  queues: Queue[];
  rollouts: Rollout[];
  chaos: { enabled: boolean; experiments: ChaosExperiment[] };
  patterns: { service: string; pattern: string; counts: Record<string, number> }[];
  config: {
    version: number;
    watching?: string;
    recent: {
      result: string;
      version: number;
      at: string;
      source: string;
      issues: { path: string; message: string }[];
    }[];
    fleet?: { current?: { id: string }; replicas: { replica: string; result: string; lagging: boolean }[] };
  };
}

// The page's own path: every request is made from it, so a proxy that serves the console under a
// prefix of its own (and strips it) is followed without the server knowing the prefix.
const base = location.pathname.replace(/\/+$/, '');
const TOKEN_KEY = `nest-resilience:${base}`;
const TIMELINE_MS = 10 * 60_000;
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const made = new Map<string, HTMLElement>();

class Unauthorized extends Error {}

function headers(json: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) out.Authorization = `Bearer ${token}`;
  if (json) out['Content-Type'] = 'application/json';
  return out;
}

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(base + path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) throw new Unauthorized();
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((data as { message?: string }).message ?? `${response.status}`);
  return data;
}
