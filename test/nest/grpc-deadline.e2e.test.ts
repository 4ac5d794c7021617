import 'reflect-metadata';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Controller, Injectable, Module } from '@nestjs/common';
import { GrpcMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  currentCriticality,
  currentDeadline,
  RateLimit,
  ResilienceModule,
  Retry,
  resilientFetch,
} from '../../lib/index.js';
import { failingDependency } from '../support/failing-dependency.js';
import { freePort } from '../support/redis-server.js';

const PROTO = `syntax = "proto3";
package ledger;
service Ledger {
  rpc Post (Empty) returns (Answer);
  rpc Probe (Empty) returns (Answer);
  rpc Quote (Empty) returns (Answer);
}
message Empty {}
message Answer { string text = 1; }
`;

const ROUNDS = { attempts: 20, waitMs: 30 };
const shared = { dependency: '' };

@Injectable()
class Ledger {
  /** Retries the failing dependency up to 20 times, 30 ms apart (about 600 ms in all). */
  @Retry({ maxAttempts: ROUNDS.attempts, baseDelay: ROUNDS.waitMs / 1000, jitter: false, exponentialBase: 1 })
  async post(): Promise<{ text: string }> {
    const response = await resilientFetch(shared.dependency);
    await response.text();
    if (!response.ok) throw new Error(`ledger dependency answered ${response.status}`);
    return { text: 'posted' };
  }

  @RateLimit({ name: 'grpc_quote', rate: 1, per: 60 })
  async quote(): Promise<{ text: string }> {
    return { text: 'quoted' };
  }
}

@Controller()
class LedgerGrpc {
  constructor(private readonly ledger: Ledger) {}

  @GrpcMethod('Ledger', 'Post')
  post() {
    return this.ledger.post();
  }

  @GrpcMethod('Ledger', 'Probe')
  probe() {
    const left = currentDeadline();
    return { text: `${currentCriticality() ?? 'none'} ${left === undefined ? 'none' : Math.round(left)}` };
  }

  @GrpcMethod('Ledger', 'Quote')
  quote() {
    return this.ledger.quote();
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
  controllers: [LedgerGrpc],
  providers: [Ledger],
})
class LedgerModule {}

type Answer = { text: string };
type Unary = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, answer?: Answer) => void,
) => void;

describe('deadlines and criticality over gRPC (a real grpc-js client and a Nest gRPC microservice)', () => {
  let app: Awaited<
    ReturnType<Awaited<ReturnType<ReturnType<typeof Test.createTestingModule>['compile']>>['createNestMicroservice']>
  >;
  let client: grpc.Client & Record<'Post' | 'Probe' | 'Quote', Unary>;
  let dependency: Awaited<ReturnType<typeof failingDependency>>;

  before(async () => {
    dependency = await failingDependency();
    shared.dependency = dependency.url;
    const protoPath = join(tmpdir(), `ledger-${process.pid}.proto`);
    writeFileSync(protoPath, PROTO);
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({ imports: [LedgerModule] }).compile();
    app = moduleRef.createNestMicroservice<MicroserviceOptions>({
      transport: Transport.GRPC,
      options: { package: 'ledger', protoPath, url: `127.0.0.1:${port}` },
    });
    app.useLogger(false);
    await app.listen();
    const definition = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as unknown as {
      ledger: { Ledger: new (address: string, credentials: grpc.ChannelCredentials) => typeof client };
    };
    client = new definition.ledger.Ledger(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    client.close();
    await app.close();
    await dependency.close();
  });

  const call = (method: 'Post' | 'Probe' | 'Quote', deadlineMs?: number, metadata = new grpc.Metadata()) =>
    new Promise<{ error: grpc.ServiceError | null; answer?: Answer }>((resolve) =>
      client[method](
        {},
        metadata,
        deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs },
        (error, answer) => resolve({ error, answer }),
      ),
    );

  it("the client's gRPC deadline (grpc-timeout) bounds the handler's retries: no attempt after it", async (t) => {
    await call('Probe'); // the channel connected before the deadline starts counting
    dependency.hits.length = 0;
    const sentAt = Date.now();
    const { error } = await call('Post', 200);
    const answeredAfter = Date.now() - sentAt;
    // The client's own deadline fires, or the server stops first (no retry that cannot finish: its last error).
    assert.ok(
      error?.code === grpc.status.DEADLINE_EXCEEDED || error?.code === grpc.status.UNKNOWN,
      `${error?.code} ${error?.details}`,
    );
    assert.ok(answeredAfter < 200 + 150, `answered after ${answeredAfter} ms`);
    // Let anything still running on the server land before counting.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const propagated = dependency.hits.length;
    // None at all is right too on a busy machine: a deadline already passed when the call arrives is refused.
    assert.ok(propagated < ROUNDS.attempts, `${propagated} attempts`);
    const late = dependency.hits.filter((at) => at > sentAt + 200 + 40).length;
    assert.equal(late, 0, `${late} of ${propagated} attempts after the deadline`);
    t.diagnostic(
      `with a 200 ms gRPC deadline: ${propagated} dependency attempts, ${late} late, answered after ${answeredAfter} ms`,
    );

    dependency.hits.length = 0;
    const unbounded = await call('Post');
    assert.equal(unbounded.error?.code, grpc.status.UNKNOWN, "the handler's own error, after every attempt");
    assert.equal(dependency.hits.length, ROUNDS.attempts, 'without a deadline every attempt is made');
  });

  it("the handler reads the deadline and the caller's criticality (metadata x-request-criticality)", async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-request-criticality', 'SHEDDABLE');
    const { answer } = await call('Probe', 5_000, metadata);
    const [criticality, left] = (answer?.text ?? '').split(' ');
    assert.equal(criticality, 'sheddable');
    assert.ok(Number(left) > 4_000 && Number(left) <= 5_000, `${left} ms left`);
    const none = await call('Probe');
    assert.equal(none.answer?.text, 'none none', 'no deadline, no class');
    const far = await call('Probe', 3_600_000);
    assert.ok(Number(far.answer?.text.split(' ')[1]) <= 60_000, 'clamped to deadline.max (60 s)');
  });

  it('our errors reach a gRPC client with a gRPC status (a rate limit: RESOURCE_EXHAUSTED)', async () => {
    assert.equal((await call('Quote')).answer?.text, 'quoted');
    const refused = await call('Quote');
    assert.equal(refused.error?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(refused.error?.details ?? '', /Rate limit "grpc_quote" exceeded/);
  });
});
