/** The URL of the redis-server that test/run.mjs started for this run. */
export function testRedisUrl(): string {
  const url = process.env.REDIS_URL_TEST;
  if (!url)
    throw new Error('REDIS_URL_TEST is not set: run the tests with `npm test` (test/run.mjs starts redis-server)');
  return url;
}
