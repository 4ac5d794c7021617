import { benchAdaptive } from './adaptive.bench.js';
import { benchBulkhead } from './bulkhead.bench.js';
import { benchCircuitBreaker } from './circuit-breaker.bench.js';
import { benchDeadLetter } from './dead-letter.bench.js';
import { benchHttp } from './http.bench.js';
import { benchLimiterEviction } from './limiter-eviction.bench.js';
import { benchOtel } from './otel.bench.js';
import { benchPatterns } from './patterns.bench.js';
import { benchRateLimiterMemory, benchRateLimiterRedis } from './rate-limiter.bench.js';
import { benchResilient } from './resilient.bench.js';
import { benchRetry } from './retry.bench.js';
import { benchSharedCircuit } from './shared-circuit.bench.js';
import { benchSimulate } from './simulate.bench.js';

/** `npm run bench [name...]`: prints each benchmark's table (Markdown, as in bench/RESULTS.md). */
const suites: Record<string, () => Promise<string>> = {
  'circuit-breaker': benchCircuitBreaker,
  retry: benchRetry,
  'rate-limiter-memory': benchRateLimiterMemory,
  'rate-limiter-redis': benchRateLimiterRedis,
  'limiter-eviction': benchLimiterEviction,
  'dead-letter': benchDeadLetter,
  resilient: benchResilient,
  bulkhead: benchBulkhead,
  adaptive: () => benchAdaptive(),
  'shared-circuit': benchSharedCircuit,
  simulate: benchSimulate,
  otel: benchOtel,
  patterns: benchPatterns,
  http: () => benchHttp(),
};

const wanted = process.argv.slice(2);
console.log(`Node ${process.version}, ${new Date().toISOString()}\n`);
for (const [name, run] of Object.entries(suites)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`${await run()}\n`);
}
