// A call through a breaker with a callTimeout whose operation never settles and holds
// nothing else alive: the timeout must still fire (an unref'd timer let Node exit with
// code 13, "unsettled top-level await", before it did).
import { CircuitBreakerPolicy } from '../../lib/index.js';

const breaker = new CircuitBreakerPolicy('exit', { callTimeout: '100ms' });
const outcome = await breaker.execute(() => new Promise(() => undefined)).catch((error: Error) => error.name);
process.stdout.write(`${String(outcome)}\n`);
