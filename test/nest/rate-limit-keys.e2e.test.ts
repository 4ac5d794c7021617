import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Module,
  UseGuards,
} from '@nestjs/common';
import { RateLimit, ResilienceConfigError, ResilienceModule, ResilienceSettings } from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

const KNOWN_KEYS: Record<string, string> = {
  'key-of-acme-1': 'acme',
  'key-of-acme-2': 'acme',
  'key-of-globex': 'globex',
};

/** Stands for an API-key authentication guard (passport-headerapikey and the like). */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const account = KNOWN_KEYS[String(request.headers['x-api-key'])];
    if (account) request.user = { id: account };
    return true;
  }
}

@Controller()
class KeysController {
  @Get('unguarded')
  @RateLimit({ name: 'unguarded', rate: 3, per: 60, burst: 0, key: 'apiKey' })
  unguarded() {
    return 'ok';
  }

  @Get('validated')
  @RateLimit({
    name: 'validated',
    rate: 3,
    per: 60,
    burst: 0,
    key: 'apiKey',
    apiKeyHeader: 'X-Client-Key',
    validateApiKey: (key) => (key in KNOWN_KEYS ? true : undefined),
  })
  validated() {
    return 'ok';
  }

  @Get('by-account')
  @RateLimit({
    name: 'by_account',
    rate: 3,
    per: 60,
    burst: 0,
    key: 'apiKey',
    validateApiKey: (key) => KNOWN_KEYS[key],
  })
  byAccount() {
    return 'ok';
  }

  @Get('guarded')
  @UseGuards(ApiKeyGuard)
  @RateLimit({ name: 'guarded', rate: 3, per: 60, burst: 0, key: 'apiKey' })
  guarded() {
    return 'ok';
  }
}

@Module({ imports: [ResilienceModule.forRoot({})], controllers: [KeysController] })
class AppModule {}

async function statuses(url: string, headers: () => Record<string, string>, count: number): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < count; i++) codes.push((await fetch(url, { headers: headers() })).status);
  return codes;
}

const allowed = (codes: number[]) => codes.filter((code) => code === 200).length;

for (const platform of PLATFORMS) {
  describe(`key: 'apiKey' trusts no header by itself (${platform})`, () => {
    let url = '';
    let close: () => Promise<void>;
    before(async () => {
      const started = await startHttpApp(AppModule, platform);
      url = started.url;
      close = () => started.app.close();
    });
    after(() => close());

    it('a fresh random key per request does not buy a fresh bucket', async () => {
      const codes = await statuses(`${url}/unguarded`, () => ({ 'x-api-key': randomUUID() }), 10);
      assert.equal(allowed(codes), 3, `random keys are all one client (its IP): ${codes}`);
    });

    it('with a validator, genuine keys get a bucket each and forged keys share the IP bucket', async () => {
      const forged = await statuses(`${url}/validated`, () => ({ 'x-client-key': randomUUID() }), 10);
      assert.equal(allowed(forged), 3, `forged keys: ${forged}`);
      const acme = await statuses(`${url}/validated`, () => ({ 'x-client-key': 'key-of-acme-1' }), 5);
      const globex = await statuses(`${url}/validated`, () => ({ 'x-client-key': 'key-of-globex' }), 5);
      assert.deepEqual([allowed(acme), allowed(globex)], [3, 3]);
    });

    it('a validator that names the owner makes every key of one account share its bucket', async () => {
      const codes = [
        ...(await statuses(`${url}/by-account`, () => ({ 'x-api-key': 'key-of-acme-1' }), 2)),
        ...(await statuses(`${url}/by-account`, () => ({ 'x-api-key': 'key-of-acme-2' }), 3)),
      ];
      assert.equal(allowed(codes), 3, `two keys of one account: ${codes}`);
      assert.equal(allowed(await statuses(`${url}/by-account`, () => ({ 'x-api-key': 'key-of-globex' }), 1)), 1);
    });

    it('after an authentication guard, the authenticated identity is the key', async () => {
      const acme = await statuses(`${url}/guarded`, () => ({ 'x-api-key': 'key-of-acme-2' }), 5);
      const globex = await statuses(`${url}/guarded`, () => ({ 'x-api-key': 'key-of-globex' }), 5);
      const strangers = await statuses(`${url}/guarded`, () => ({ 'x-api-key': randomUUID() }), 5);
      assert.deepEqual([allowed(acme), allowed(globex), allowed(strangers)], [3, 3, 3]);
    });
  });
}

describe('the key settings are validated', () => {
  for (const [field, value, message] of [
    ['ipv6Subnet', 0, /ipv6Subnet/],
    ['ipv6Subnet', 129, /ipv6Subnet/],
    ['ipv6Subnet', 63.5, /ipv6Subnet/],
    ['apiKeyHeader', 'X API Key', /apiKeyHeader.*header name/],
    ['validateApiKey', 'yes', /validateApiKey must be a function/],
  ] as const) {
    it(`refuses ${field}: ${JSON.stringify(value)}`, () => {
      assert.throws(
        () => ResilienceSettings.create({ rateLimiters: { api: { key: 'apiKey', [field]: value } } }),
        (error: unknown) =>
          error instanceof ResilienceConfigError &&
          /rateLimiters\.api/.test(error.message) &&
          message.test(error.message),
      );
    });
  }

  it("refuses a decorator's bad ipv6Subnet at boot, naming the limiter", async () => {
    @Controller()
    class BadController {
      @Get()
      @RateLimit({ name: 'bad_subnet', key: 'ip', ipv6Subnet: 200 })
      handle() {
        return 'ok';
      }
    }
    @Module({ imports: [ResilienceModule.forRoot({})], controllers: [BadController] })
    class BadModule {}
    await assert.rejects(
      startHttpApp(BadModule, 'express'),
      (error: unknown) => error instanceof ResilienceConfigError && /bad_subnet.*ipv6Subnet/s.test(error.message),
    );
  });
});

describe("key: 'ip' over IPv6 from real source addresses (in a network namespace)", () => {
  const worker = fileURLToPath(new URL('../support/ipv6-rate-worker.js', import.meta.url));
  for (const platform of PLATFORMS) {
    it(`groups a /64 by default, counts single addresses at /128, and IPv4-mapped as IPv4 (${platform})`, () => {
      const output = execFileSync('unshare', ['--net', '--fork', process.execPath, worker, platform], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      const { statuses, v4, v4Remaining } = JSON.parse(output.trim().split('\n').at(-1) as string);
      // rate 2: the three sources of 2001:db8:1:2::/64 share two calls; 2001:db8:1:3::/64 has its own.
      assert.deepEqual(statuses['/by-prefix'], {
        '2001:db8:1:2::a': [200, 200],
        '2001:db8:1:2::b': [429, 429],
        '2001:db8:1:2:ffff::c': [429, 429],
        '2001:db8:1:3::a': [200, 200],
      });
      for (const source of Object.keys(statuses['/by-address']))
        assert.deepEqual(statuses['/by-address'][source], [200, 200], `${source} at /128`);
      assert.deepEqual(v4, [200, 200]);
      assert.equal(v4Remaining, 0, 'the mapped client was counted under ip:127.0.0.1');
    });
  }
});
