import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Module,
  UseGuards,
} from '@nestjs/common';
import { RateLimit, ResilienceModule } from '../../lib/index.js';
import { startHttpApp } from '../support/http-apps.js';

// The README's and docs' key and tier functions, verbatim: this file compiles only if
// their types hold (`request` used to be `unknown`), and the test below checks that the
// documents still carry these exact lines.
const README_TIER = `@RateLimit({ name: 'plans', tiers: { free: 'free', premium: 'premium' }, tier: ({ request }) => request?.user?.tier })`;
const DOCS_TIER = `  tier: ({ request }) => request?.user?.tier, // an unknown tier falls back to the first ("free")`;

@Injectable()
class PlanGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const plan = request.headers['x-plan'];
    if (plan) request.user = { id: 'u1', tier: plan };
    return true;
  }
}

@Controller()
@UseGuards(PlanGuard)
class PlansController {
  @Get('plans')
  @RateLimit({ name: 'plans', tiers: { free: 'free', premium: 'premium' }, tier: ({ request }) => request?.user?.tier })
  plans() {
    return 'ok';
  }
}

@Module({ imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })], controllers: [PlansController] })
class AppModule {}

describe('documented snippets', () => {
  it('the README and docs carry the tier function this file compiles', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const docs = readFileSync(new URL('../../../docs/rate-limiter.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(README_TIER), 'README: the tiers example');
    assert.ok(docs.includes(DOCS_TIER), 'docs/rate-limiter.md: the tiers example');
  });

  it('the tier function picks the limiter of the plan the guard set', async () => {
    const { app, url } = await startHttpApp(AppModule, 'express');
    try {
      const policy = async (plan?: string) =>
        (await fetch(`${url}/plans`, { headers: plan ? { 'x-plan': plan } : {} })).headers.get('ratelimit-policy');
      const free = await policy();
      const premium = await policy('premium');
      assert.ok(free && premium);
      assert.notEqual(free, premium, 'a premium user is limited by the premium tier');
      assert.equal(await policy('platinum'), free, 'an unknown tier falls back to the first');
    } finally {
      await app.close();
    }
  });
});
