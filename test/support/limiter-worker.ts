// A separate process consuming a shared Redis limit: `node limiter-worker.js <url> <key> <attempts>`.
// Prints how many of its attempts were admitted.
import { createRedisClient, RateLimiter, RedisRateLimitStore } from '../../lib/index.js';

const [url, key, attempts] = process.argv.slice(2);
const client = await createRedisClient({ url });
const store = new RedisRateLimitStore({ client, keyPrefix: 'multi', failureMode: 'closed' });
const limiter = new RateLimiter({ name: 'shared', rate: 1000, per: '1h', strategy: 'fixed_window', store });
const verdicts = await Promise.all(Array.from({ length: Number(attempts) }, () => limiter.consume(key)));
console.log(verdicts.filter((v) => v.allowed).length);
client.disconnect();
