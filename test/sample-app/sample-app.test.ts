import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppModule } from '../../sample-app/app.module.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

for (const platform of PLATFORMS) {
  describe(`sample app on ${platform}`, () => {
    let close: () => Promise<void>;
    let url: string;
    before(async () => {
      const started = await startHttpApp(AppModule, platform);
      url = started.url;
      close = () => started.app.close();
    });
    after(() => close());

    it('serves hello and health', async () => {
      const hello = await fetch(`${url}/`);
      assert.equal(hello.status, 200);
      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
    });

    it('boots from its YAML with each service in its tier', async () => {
      const services = (await (await fetch(`${url}/config/services`)).json()) as Record<
        string,
        { tier: string; circuit: { failureThreshold: number } }
      >;
      assert.equal(services.payment_gateway.tier, 'critical');
      assert.equal(services.payment_gateway.circuit.failureThreshold, 2);
      assert.equal(services.user_api.circuit.failureThreshold, 5);
      assert.equal(services.analytics.circuit.failureThreshold, 10);
    });
  });
}
