import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CanActivate, type ExecutionContext, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CircuitBreakerService, ResilienceModule } from '../../lib/index.js';
import { ADMIN_APP_CONFIG, ADMIN_TOKEN, startAdminApp } from '../support/admin-app.js';
import { PLATFORMS } from '../support/http-apps.js';

const BASE = '/ops/resilience';
const READS = ['status', 'breakers', 'breakers/payments', 'limiters', 'dlq', 'dlq/payments', 'rollouts', 'config'];

/** The app's own auth: knows users by a header, through a service of its own module. */
@Injectable()
class Directory {
  readonly users = new Map([['k-alice', { username: 'alice' }]]);
}
@Injectable()
class ApiKeyGuard implements CanActivate {
  constructor(private readonly directory: Directory) {}
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string>; user?: unknown }>();
    request.user = this.directory.users.get(request.headers['x-api-key'] ?? '');
    return request.user !== undefined;
  }
}
@Module({ providers: [Directory, ApiKeyGuard], exports: [ApiKeyGuard] })
class AuthModule {}

for (const platform of PLATFORMS) {
  describe(`admin console security on ${platform}`, () => {
    let app: Awaited<ReturnType<typeof startAdminApp>>;
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    before(async () => {
      app = await startAdminApp(platform);
    });
    after(() => app.app.close());

    it('serves the page and its script to anyone (no data in them), with a strict content policy', async () => {
      const page = await fetch(`${app.url}${BASE}`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'.*frame-ancestors 'none'/);
      const html = await page.text();
      // Relative to the page, so a proxy that serves it under a prefix of its own is followed.
      assert.match(html, /<script src="resilience\/console.js"/);
      assert.doesNotMatch(html, /payments/, 'the page holds no data');
      const script = await fetch(`${app.url}${BASE}/console.js`);
      assert.equal(script.status, 200);
      assert.match(script.headers.get('content-type') ?? '', /javascript/);
      assert.match(await script.text(), /EventSource|text\/event-stream|\/events/);
    });

    it('refuses every data route with the same 401: no token, a wrong one, an empty one', async () => {
      const refusals: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong-token-of-24-chars!' },
        { authorization: 'Bearer ' },
      ];
      const bodies = new Set<string>();
      for (const route of READS) {
        for (const headers of refusals) {
          const response = await fetch(`${app.url}${BASE}/${route}`, { headers });
          assert.equal(response.status, 401, `${route} with ${JSON.stringify(headers)}`);
          bodies.add(await response.text());
        }
        assert.equal((await fetch(`${app.url}${BASE}/${route}`, { headers: auth })).status, 200, route);
        const lowerCase = { authorization: `bearer ${ADMIN_TOKEN}` }; // the scheme is case-insensitive
        assert.equal((await fetch(`${app.url}${BASE}/${route}`, { headers: lowerCase })).status, 200, route);
      }
      assert.equal(bodies.size, 1, `one refusal body: ${[...bodies].join(' | ')}`);
      const events = await fetch(`${app.url}${BASE}/events`);
      assert.equal(events.status, 401);
      assert.equal(await events.text(), [...bodies][0]);
    });

    it('refuses a token in the query string, even beside a good header', async () => {
      for (const query of [`token=${ADMIN_TOKEN}`, `access_token=${ADMIN_TOKEN}`, 'api_key=x']) {
        assert.equal((await fetch(`${app.url}${BASE}/breakers?${query}`)).status, 401, query);
        assert.equal((await fetch(`${app.url}${BASE}/breakers?${query}`, { headers: auth })).status, 401, query);
      }
    });

    it('mutates only by POST or DELETE: GET cannot, a POST needs a JSON body, a refused one changes nothing', async () => {
      const breaker = app.app.get(CircuitBreakerService).get('payments');
      const url = `${app.url}${BASE}/breakers/payments/force-open`;
      assert.equal((await fetch(url, { headers: auth })).status, 404);
      assert.equal((await fetch(`${app.url}${BASE}/dlq/payments/replay`, { headers: auth })).status, 404);
      const form = await fetch(url, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1',
      });
      assert.equal(form.status, 415, 'a form post (what a cross-site page can send) is refused');
      assert.equal((await fetch(url, { method: 'POST', body: '{}' })).status, 401);
      assert.equal(breaker.state, 'closed', 'none of these opened the breaker');
      const done = await fetch(url, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(done.status, 201);
      assert.equal(breaker.state, 'open');
      breaker.reset();
      const audit = app.logs.audit();
      assert.deepEqual(
        audit.map((line) => [line.what, line.outcome]),
        [
          ['force-open breaker payments', 'refused: not a JSON request'],
          [`POST ${BASE}/breakers/payments/force-open`, 'refused: not authorized'],
          ['force-open breaker payments', 'done'],
        ],
      );
      assert.match(audit[2].who, /^token holder \(.*127\.0\.0\.1\)$/);
    });
  });
}

describe('admin console: guard, defaults and bad settings', () => {
  it('serves nothing unless enabled, in any environment', async () => {
    const app = await startAdminApp('express', {});
    try {
      for (const path of ['/resilience', '/resilience/breakers', '/resilience/console.js']) {
        assert.equal((await fetch(`${app.url}${path}`)).status, 404, path);
      }
    } finally {
      await app.app.close();
    }
  });

  it("uses the app's guard (found in the app's own module) and names its user in the audit line", async () => {
    const app = await startAdminApp('fastify', { enabled: true, guard: ApiKeyGuard }, { imports: [AuthModule] });
    try {
      assert.equal((await fetch(`${app.url}/resilience/breakers`)).status, 401);
      assert.equal((await fetch(`${app.url}/resilience/breakers`, { headers: { 'x-api-key': 'k-eve' } })).status, 401);
      const headers = { 'x-api-key': 'k-alice', 'content-type': 'application/json' };
      assert.equal((await fetch(`${app.url}/resilience/breakers`, { headers })).status, 200);
      const reset = await fetch(`${app.url}/resilience/breakers/payments/reset`, {
        method: 'POST',
        headers,
        body: '{}',
      });
      assert.equal(reset.status, 201);
      assert.match(app.logs.audit()[0].who, /^alice \(/);
      assert.match(await (await fetch(`${app.url}/resilience`)).text(), /data-auth="guard"/);
    } finally {
      await app.app.close();
    }
  });

  it('needs both the token and the guard when both are set', async () => {
    const app = await startAdminApp(
      'express',
      { enabled: true, guard: ApiKeyGuard, token: ADMIN_TOKEN },
      { imports: [AuthModule] },
    );
    try {
      const url = `${app.url}/resilience/breakers`;
      assert.equal((await fetch(url, { headers: { 'x-api-key': 'k-alice' } })).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 401);
      const both = { 'x-api-key': 'k-alice', authorization: `Bearer ${ADMIN_TOKEN}` };
      assert.equal((await fetch(url, { headers: both })).status, 200);
    } finally {
      await app.app.close();
    }
  });

  it('rejects bad admin settings at forRoot, naming the setting', () => {
    const cases: [unknown, RegExp][] = [
      [{ enabled: true }, /admin\.enabled needs admin\.token or admin\.guard/],
      [{ enabled: true, token: 'short' }, /admin\.token must have 16 characters at least/],
      [{ enabled: true, token: '' }, /admin\.token must have 16 characters/],
      [{ enabled: 'yes', token: ADMIN_TOKEN }, /admin\.enabled must be a boolean/],
      [{ enabled: true, token: ADMIN_TOKEN, path: 'resilience' }, /admin\.path must be a path/],
      [{ enabled: true, token: ADMIN_TOKEN, path: '/' }, /admin\.path must be a path/],
      [{ enabled: true, token: ADMIN_TOKEN, tokn: 'x' }, /admin\.tokn is not a setting/],
      [{ enabled: true, guard: {} }, /admin\.guard must be a CanActivate/],
      [
        { enabled: true, token: ADMIN_TOKEN, replay: { maxLimit: 0 } },
        /admin\.replay\.maxLimit must be a positive number/,
      ],
    ];
    for (const [admin, message] of cases) {
      assert.throws(
        () => ResilienceModule.forRoot({ ...ADMIN_APP_CONFIG, admin } as never),
        message,
        JSON.stringify(admin),
      );
    }
  });

  it('fails the boot when a token function gives no token', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({ metrics: { enabled: false }, admin: { enabled: true, token: () => undefined } }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await assert.rejects(moduleRef.init(), /admin\.token must be a string, got undefined/);
    await moduleRef.close();
  });
});
