// `npm run demo`: drives the sample app through an outage and a recovery, printing as it
// happens the payments breaker opening and closing, rejections, retries, dead letters,
// a replay that drains the queue, and a game day (a chaos experiment through the admin API).
// Exits 0 when every phase did what it should.
import 'reflect-metadata';

process.env.SAMPLE_CONFIG ??= 'demo';
process.env.ADMIN_TOKEN ??= 'demo-token-for-the-console';
process.env.DOWNSTREAM_FAILURE_RATE = '0';
process.env.DOWNSTREAM_LATENCY_MS = '2';
/** How long the game day's chaos experiment runs (the test makes it short). */
const GAME_DAY_SECONDS = Number(process.env.GAME_DAY_SECONDS ?? 30);

const { CircuitBreakerService, RetryService } = await import('../lib/index.js');
const { startSampleApp } = await import('./main.js');

const { app, url } = await startSampleApp(0, true);
const admin = { authorization: `Bearer ${process.env.ADMIN_TOKEN}`, 'content-type': 'application/json' };
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
let failed = false;
const expect = (ok: boolean, what: string) => {
  if (!ok) {
    failed = true;
    log(`UNEXPECTED: ${what}`);
  }
};

app.get(CircuitBreakerService).subscribe({
  onStateChange: (from, to, name) => log(`breaker ${name}: ${from} -> ${to}`),
});
let retries = 0;
app.get(RetryService).subscribe({ onRetry: () => retries++ });

const pay = (i: number) =>
  fetch(`${url}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId: `o${i}`, amount: i }),
  });
const setDownstream = (failureRate: number) =>
  fetch(`${url}/admin/downstream`, { method: 'PUT', headers: admin, body: JSON.stringify({ failureRate }) });
const dlqSize = async () =>
  (
    (await (await fetch(`${url}/resilience/dlq`, { headers: admin })).json()) as {
      queues: { name: string; size: number }[];
    }
  ).queues.find((q) => q.name === 'payment_gateway')?.size ?? 0;
const metric = async (series: string) => {
  const line = (await (await fetch(`${url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
};

try {
  log('phase 1: healthy downstream');
  const healthy = await Promise.all([1, 2, 3, 4, 5].map(pay));
  log(`  5 payments: ${healthy.map((r) => r.status).join(' ')}`);
  expect(
    healthy.every((r) => r.status === 201),
    'healthy payments succeed',
  );

  log('phase 2: outage (the downstream refuses every call)');
  await setDownstream(1);
  const statuses: number[] = [];
  for (let i = 6; i <= 10; i++) {
    const r = await pay(i);
    statuses.push(r.status);
    const extra = r.status === 503 ? ` (rejected at once, Retry-After ${r.headers.get('retry-after')} s)` : '';
    log(`  payment ${i}: ${r.status}${extra}; retries so far ${retries}; dead letters ${await dlqSize()}`);
  }
  expect(
    statuses.slice(0, 2).every((s) => s === 500),
    'the first failures are retried then fail',
  );
  expect(
    statuses.slice(2).every((s) => s === 503),
    'then the open breaker rejects at once',
  );
  const health = await fetch(`${url}/health`);
  log(`  /health: ${health.status} (critical breaker open)`);
  expect(health.status === 503, '/health is down while the payments breaker is open');
  log(
    `  circuit_breaker_state{service="payment_gateway"} = ${await metric('circuit_breaker_state{service="payment_gateway"}')}`,
  );

  log('phase 3: recovery (the downstream is back)');
  await setDownstream(0);
  log('  waiting for the breaker open time (3 s in the demo config)...');
  await new Promise((r) => setTimeout(r, 3100));
  for (let i = 11; i <= 13; i++) log(`  payment ${i}: ${(await pay(i)).status}`);
  expect((await metric('circuit_breaker_state{service="payment_gateway"}')) === 0, 'the breaker closed again');

  log('phase 4: replay the dead letters');
  const before = await dlqSize();
  const report = await (
    await fetch(`${url}/resilience/dlq/payment_gateway/replay`, { method: 'POST', headers: admin, body: '{}' })
  ).json();
  const after = await dlqSize();
  log(`  replayed ${JSON.stringify(report)}; queue ${before} -> ${after}`);
  expect(before > 0 && after === 0, 'the replay drains the queue');

  log(`phase 5: game day (50% ConnectionError into payment_gateway for ${GAME_DAY_SECONDS} s, through the admin API)`);
  const breaker = app.get(CircuitBreakerService).get('payment_gateway');
  const experiment = (await (
    await fetch(`${url}/resilience/chaos`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        service: 'payment_gateway',
        fault: 'error',
        error: 'ConnectionError',
        rate: 0.5,
        // Once per call: a call it hits fails every attempt, as a dependency down for that request.
        per: 'call',
        duration: `${GAME_DAY_SECONDS}s`,
      }),
    })
  ).json()) as { id: string; endsAt: string };
  log(`  experiment ${experiment.id} runs until ${experiment.endsAt}`);
  const gameDay: number[] = [];
  for (let i = 100; i < 160 && breaker.state !== 'open'; i++) gameDay.push((await pay(i)).status);
  log(`  ${gameDay.length} payments: ${gameDay.join(' ')}; dead letters ${await dlqSize()}`);
  expect(breaker.state === 'open', 'injected connection errors open the breaker');
  expect((await dlqSize()) > 0, 'the failed payments are kept as dead letters');
  log('  waiting for the experiment to end, then the breaker open time...');
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(experiment.endsAt) - Date.now()) + 3100));
  const running = (
    (await (await fetch(`${url}/resilience/chaos`, { headers: admin })).json()) as { experiments: unknown[] }
  ).experiments;
  log(`  experiments running: ${running.length}`);
  expect(running.length === 0, 'the experiment ended by itself');
  const recovered: number[] = [];
  for (let i = 200; i < 210 && recovered.slice(-3).filter((s) => s === 201).length < 3; i++)
    recovered.push((await pay(i)).status);
  log(`  after it: ${recovered.join(' ')}; breaker ${breaker.state}`);
  expect(breaker.state === 'closed', 'the service recovered');
  log(failed ? 'demo finished with unexpected results' : 'demo finished: every phase behaved as expected');
} finally {
  await app.close();
}
process.exit(failed ? 1 : 0);
