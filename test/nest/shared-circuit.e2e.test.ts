import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisServer } from '../support/redis-server.js';

const WORKER = join(import.meta.dirname, '../support/fleet-worker.js');

/** A real HTTP dependency whose health the test sets: it counts every request that reaches it. */
class Downstream {
  hits = 0;
  mode: 'dead' | 'alive' | 'hang' = 'alive';
  private readonly held: ServerResponse[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      this.hits++;
      if (this.mode === 'hang') this.held.push(res);
      else if (this.mode === 'dead') res.writeHead(503).end('down');
      else res.end('ok');
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  }

  stop(): void {
    for (const res of this.held.splice(0)) res.destroy();
    this.server?.closeAllConnections();
    this.server?.close();
  }
}

interface Reply {
  ok: number;
  failed: number;
  rejected: number;
  longest: number;
  state: string;
  sharing?: boolean;
  health: string;
}

/** One replica: a child process running the module, driven over IPC. */
class Replica {
  private next = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: Reply & { id: number }) => {
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }

  static start(redisUrl: string, downstream: string, circuit: object): Promise<Replica> {
    const child = fork(WORKER, [redisUrl, downstream, JSON.stringify(circuit)], { stdio: 'inherit' });
    const replica = new Replica(child);
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(replica));
      child.once('exit', (code) => reject(new Error(`replica exited with ${code} before it was ready`)));
    });
  }

  send(op: string, extra: { count?: number; ms?: number } = {}): Promise<Reply> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, op, ...extra }, (error) => error && reject(error));
    });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

async function fleet(count: number, redisUrl: string, downstream: string | string[], circuit: object) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      Replica.start(redisUrl, Array.isArray(downstream) ? downstream[i] : downstream, circuit),
    ),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

describe('a breaker shared by 4 replicas (real processes, real redis-server, real fetch)', () => {
  let redis: RedisServer;
  const downstreams: Downstream[] = [];
  const replicas: Replica[] = [];
  const dependency = async () => {
    const d = new Downstream();
    await d.start();
    downstreams.push(d);
    return d;
  };
  const spawnFleet = async (...args: Parameters<typeof fleet>) => {
    const started = await fleet(...args);
    replicas.push(...started);
    return started;
  };
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    for (const r of replicas) r.kill();
    for (const d of downstreams) d.stop();
    await redis.stop();
  });

  for (const scope of ['shared', 'local'] as const) {
    it(`${scope} scope: calls that reach a dead downstream before every replica rejects`, async (t) => {
      const down = await dependency();
      // The open time must outlast the first phase (4 processes' first fetches on a busy machine):
      // a replica still calling after it would get a half-open trial, one more call to count.
      const circuit = { scope, failureThreshold: 5, successThreshold: 1, timeout: '3s', halfOpenMaxCalls: 1 };
      const four = await spawnFleet(4, redis.url, down.url, circuit);
      down.mode = 'dead';
      const started = Date.now();
      await Promise.all(four.map((r) => r.send('untilRejected', { count: 50 })));
      const took = Date.now() - started;
      t.diagnostic(
        `${scope}: ${down.hits} calls reached the dead downstream (failureThreshold 5, 4 replicas) in ${took} ms`,
      );
      assert.ok(took < 3000, `the first phase took ${took} ms, longer than the open time`);
      if (scope === 'local') {
        assert.equal(down.hits, 20, 'each replica counts its own 5');
        return;
      }
      assert.ok(down.hits <= 5 + 4, `${down.hits} calls reached it`);
      // After the open time: exactly one trial in the whole fleet (halfOpenMaxCalls 1).
      await sleep(3100);
      down.hits = 0;
      const trials = await Promise.all(four.map((r) => r.send('calls', { count: 5 })));
      assert.equal(down.hits, 1, 'one trial reached the downstream');
      assert.equal(
        trials.reduce((n, r) => n + r.rejected, 0),
        19,
      );
      // The trial failed and re-opened the breaker; once the downstream is back, one replica's
      // trial closes everyone. (One replica asks: with all four asking at once, a call that comes
      // after the closing rightly goes through, and the count would race with it.)
      down.mode = 'alive';
      await sleep(3100);
      down.hits = 0;
      const trial = await four[0].send('calls', { count: 1 });
      assert.equal(trial.ok, 1);
      assert.equal(down.hits, 1, 'the trial');
      await until('every replica is closed', async () =>
        (await Promise.all(four.map((r) => r.send('state')))).every((r) => r.state === 'closed'),
      );
      const after = await Promise.all(four.map((r) => r.send('calls', { count: 2 })));
      assert.equal(
        after.reduce((n, r) => n + r.ok, 0),
        8,
      );
    });
  }

  it('quorum of 2 among 4: one replica with a private failure opens alone; two open all', async () => {
    const own = await Promise.all([dependency(), dependency(), dependency(), dependency()]);
    const circuit = { scope: 'quorum', quorum: { replicas: 2 }, failureThreshold: 3, timeout: 30 };
    const four = await spawnFleet(
      4,
      redis.url,
      own.map((d) => d.url),
      circuit,
    );
    own[0].mode = 'dead';
    assert.equal((await four[0].send('untilRejected')).state, 'open');
    await sleep(200);
    const others = await Promise.all(four.slice(1).map((r) => r.send('calls', { count: 3 })));
    assert.deepEqual(
      others.map((r) => [r.ok, r.state]),
      [
        [3, 'closed'],
        [3, 'closed'],
        [3, 'closed'],
      ],
    );
    own[1].mode = 'dead';
    await four[1].send('untilRejected');
    await until('the healthy replicas act open', async () =>
      (await Promise.all(four.slice(2).map((r) => r.send('state')))).every((r) => r.state === 'open'),
    );
    const hits = own[2].hits;
    const turnedAway = await four[2].send('calls', { count: 3 });
    assert.equal(turnedAway.rejected, 3);
    assert.equal(own[2].hits, hits, 'its healthy downstream was spared too');
  });

  it('a replica killed while it holds the half-open lease: another gets a trial once the lease expires', async () => {
    const down = await dependency();
    const circuit = {
      scope: 'shared',
      failureThreshold: 1,
      successThreshold: 1,
      timeout: '500ms',
      halfOpenTrialTimeout: '1s',
    };
    const [holder, other] = await spawnFleet(2, redis.url, down.url, circuit);
    down.mode = 'dead';
    await holder.send('untilRejected');
    await sleep(600);
    down.mode = 'hang';
    void holder.send('calls', { count: 1 });
    await until('the trial reached the downstream', async () => down.hits === 2);
    holder.kill();
    down.mode = 'alive';
    const leased = Date.now();
    assert.equal((await other.send('calls', { count: 1 })).rejected, 1, 'the dead replica still holds the lease');
    await until('a trial goes through', async () => (await other.send('calls', { count: 1 })).ok === 1, 3000);
    const waited = Date.now() - leased;
    assert.ok(waited >= 800 && waited < 2000, `trial admitted ${waited} ms after the holder died (lease 1 s)`);
    assert.equal((await other.send('state')).state, 'closed');
  });

  it('a replica restarted while the breaker is open stays open', async () => {
    const down = await dependency();
    const circuit = { scope: 'shared', failureThreshold: 2, timeout: 30 };
    const [first] = await spawnFleet(1, redis.url, down.url, circuit);
    down.mode = 'dead';
    await first.send('untilRejected');
    first.kill();
    const hits = down.hits;
    const [restarted] = await spawnFleet(1, redis.url, down.url, circuit);
    const reply = await restarted.send('calls', { count: 3 });
    assert.equal(reply.rejected, 3);
    assert.equal(down.hits, hits, 'the restarted replica never called the dead downstream');
  });

  it('Redis killed under load: no call hangs, every replica acts alone, and shares again after a restart', async (t) => {
    const own = await RedisServer.start();
    try {
      const down = await dependency();
      const circuit = { scope: 'shared', failureThreshold: 5, timeout: 30 };
      const four = await spawnFleet(4, own.url, down.url, circuit);
      const load = Promise.all(four.map((r) => r.send('loop', { ms: 2500 })));
      await sleep(700);
      await own.kill();
      await sleep(300);
      const alone = await Promise.all(four.map((r) => r.send('state')));
      assert.deepEqual(
        alone.map((r) => [r.sharing, r.health]),
        Array(4).fill([false, 'degraded']),
      );
      await own.restart();
      const tallies = await load;
      const longest = Math.max(...tallies.map((r) => r.longest));
      t.diagnostic(`longest call while Redis was killed and restarted: ${longest.toFixed(1)} ms`);
      assert.ok(longest < 600, `a call took ${longest.toFixed(1)} ms`);
      assert.equal(
        tallies.reduce((n, r) => n + r.failed + r.rejected, 0),
        0,
        'a healthy downstream kept answering through the outage',
      );
      await until(
        'every replica shares again',
        async () =>
          (await Promise.all(four.map((r) => r.send('state')))).every((r) => r.sharing === true && r.health === 'up'),
        5000,
      );
    } finally {
      await own.stop();
    }
  });
});
