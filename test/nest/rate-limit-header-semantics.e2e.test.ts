import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Module } from '@nestjs/common';
import { parseList } from 'structured-headers';
import { ManualClock, RateLimit, RESILIENCE_CLOCK, ResilienceModule } from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

// The IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers), parsed with a real
// RFC 9651 structured-fields parser. Five calls a 10 s window, no burst, per strategy.
const STRATEGIES = ['token_bucket', 'fixed_window', 'sliding_window'] as const;

@Controller()
class LimitedController {
  @Get('token_bucket')
  @RateLimit({ name: 'token_bucket', rate: 5, per: 10, burst: 0, strategy: 'token_bucket' })
  tokenBucket() {
    return 'ok';
  }

  @Get('fixed_window')
  @RateLimit({ name: 'fixed_window', rate: 5, per: 10, burst: 0, strategy: 'fixed_window' })
  fixedWindow() {
    return 'ok';
  }

  @Get('sliding_window')
  @RateLimit({ name: 'sliding_window', rate: 5, per: 10, burst: 0, strategy: 'sliding_window' })
  slidingWindow() {
    return 'ok';
  }
}

@Module({ imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })], controllers: [LimitedController] })
class AppModule {}

/** The one item of a structured-field list header, with its integer parameters. */
function item(header: string | null, name: string): Record<string, number> {
  assert.ok(header, 'the header is there');
  const list = parseList(header);
  assert.equal(list.length, 1, header);
  const [value, params] = list[0] as [unknown, Map<string, unknown>];
  assert.equal(value, name);
  const out: Record<string, number> = {};
  for (const [key, v] of params) {
    assert.ok(Number.isInteger(v), `${key}=${String(v)} is an integer`);
    out[key] = v as number;
  }
  return out;
}

for (const platform of PLATFORMS) {
  describe(`RateLimit headers, every strategy, over real HTTP (${platform})`, () => {
    const clock = new ManualClock(1_000_000_003_000); // 3 s into a 10 s window
    let url = '';
    let close: () => Promise<void>;
    before(async () => {
      const started = await startHttpApp(AppModule, platform, (builder) =>
        builder.overrideProvider(RESILIENCE_CLOCK).useValue(clock),
      );
      url = started.url;
      close = () => started.app.close();
    });
    after(() => close());

    for (const strategy of STRATEGIES) {
      it(`${strategy}: q and w right, r down to 0, t <= w and never up while r goes down, Retry-After >= t`, async () => {
        const seen: { r: number; t: number }[] = [];
        for (let call = 0; call < 5; call++) {
          const response = await fetch(`${url}/${strategy}`);
          assert.equal(response.status, 200);
          assert.deepEqual(item(response.headers.get('ratelimit-policy'), strategy), { q: 5, w: 10 });
          const { r, t } = item(response.headers.get('ratelimit'), strategy);
          assert.ok(t >= 0 && t <= 10, `t=${t} within the window`);
          seen.push({ r, t });
          clock.advance(100);
        }
        assert.deepEqual(
          seen.map((s) => s.r),
          [4, 3, 2, 1, 0],
        );
        for (let i = 1; i < seen.length; i++) {
          assert.ok(seen[i].t <= seen[i - 1].t, `t went up while r went down: ${JSON.stringify(seen)}`);
        }
        const denied = await fetch(`${url}/${strategy}`);
        assert.equal(denied.status, 429);
        const { r, t } = item(denied.headers.get('ratelimit'), strategy);
        assert.equal(r, 0);
        const retryAfter = Number(denied.headers.get('retry-after'));
        assert.ok(t <= 10, `t=${t}`);
        assert.ok(retryAfter >= t, `Retry-After ${retryAfter} before the policy's reset t=${t}`);
      });
    }
  });
}
