import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ADMIN_TOKEN } from '../support/admin-app.js';
import { testRedisUrl } from '../support/redis.js';

const WORKER = join(import.meta.dirname, '../support/service-replica-worker.js');

/** orders at GET /orders, its dependency failing 1% of calls, rolled out 10 -> 50 -> 100 every 1.5 s with `arm`. */
function replica(arm: object) {
  return {
    service: 'orders',
    path: 'orders',
    failRate: 0.01,
    config: {
      services: {
        orders: {
          circuit: { failureThreshold: 5, timeout: 10 },
          retry: { maxAttempts: 1 },
          rate: { enabled: false },
          dlq: { enabled: false },
          rollout: {
            steps: [10, 50, 100],
            interval: '1500ms',
            // 100 calls an arm at 1% errors: a 5-point margin is about 5 standard errors of the
            // difference, so a good arm is never rolled back by chance; a flapping one far exceeds it.
            analysis: { minCalls: 100, maxFailureRateIncrease: 0.05, maxRejectionRateIncrease: 0.05 },
            ...arm,
          },
        },
      },
    },
  };
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Share {
  effective: number;
  source: string;
  progress?: { step: number; percent: number; status: string; reasons: string[] };
}

function startReplica(keyPrefix: string, arm: object): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(WORKER, [testRedisUrl(), keyPrefix, JSON.stringify(replica(arm))], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { url: string }) => resolve({ child, url: message.url }));
    child.once('exit', (code) => reject(new Error(`replica exited with ${code} before it was ready`)));
  });
}

async function shareOf(url: string): Promise<Share> {
  const response = await fetch(`${url}/ops/rollouts`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const { rollouts } = (await response.json()) as { rollouts: (Share & { service: string })[] };
  return rollouts.find((r) => r.service === 'orders') as Share;
}

/** Three replicas under traffic until every one's rollout has stopped moving; what each shows, and when. */
async function fleetRollout(arm: object) {
  const keyPrefix = `rollout-fleet-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const replicas = await Promise.all([0, 1, 2].map(() => startReplica(keyPrefix, arm)));
  let stop = false;
  const statuses = new Map<number, number>();
  const clients = replicas.flatMap(({ url }) =>
    [0, 1].map(async () => {
      while (!stop) {
        const response = await fetch(`${url}/orders`).catch(() => undefined);
        if (!response) continue;
        await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    }),
  );
  const started = Date.now();
  try {
    let shares: Share[] = [];
    while (Date.now() - started < 60_000) {
      shares = await Promise.all(replicas.map(({ url }) => shareOf(url)));
      if (shares.every((s) => s.progress && s.progress.status !== 'running')) break;
      await sleep(100);
    }
    return { shares, seconds: (Date.now() - started) / 1000, statuses };
  } finally {
    stop = true;
    await Promise.all(clients);
    for (const { child } of replicas) child.kill('SIGKILL');
  }
}

describe('a progressive rollout shared by a fleet (3 replica processes, a real redis-server, real HTTP)', () => {
  it('a bad arm (failureThreshold: 1 against 1% errors) is rolled back on every replica at once', async (t) => {
    const { shares, seconds, statuses } = await fleetRollout({ circuit: { failureThreshold: 1, timeout: 10 } });
    for (const share of shares) {
      assert.equal(share.progress?.status, 'rolled_back', JSON.stringify(share));
      assert.equal(share.effective, 0);
      assert.equal(share.source, 'progressive');
    }
    assert.deepEqual(
      new Set(shares.map((s) => s.progress?.reasons.join())).size,
      1,
      `one judgment, the same on every replica: ${JSON.stringify(shares.map((s) => s.progress?.reasons))}`,
    );
    t.diagnostic(
      `rolled back on all 3 replicas after ${seconds.toFixed(1)} s; answers ${JSON.stringify([...statuses])}; ${shares[0]?.progress?.reasons[1]}`,
    );
  });

  it('a good arm (a breaker a little more tolerant) is promoted to 100% on every replica', async (t) => {
    const { shares, seconds } = await fleetRollout({ circuit: { failureThreshold: 8, timeout: 10 } });
    for (const share of shares) {
      assert.equal(share.progress?.status, 'promoted', JSON.stringify(share));
      assert.equal(share.effective, 100);
    }
    t.diagnostic(`promoted on all 3 replicas after ${seconds.toFixed(1)} s`);
  });
});
