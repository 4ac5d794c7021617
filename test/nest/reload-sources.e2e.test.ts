import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ResilienceModule, ResilienceSettings, Resilient } from '../../lib/index.js';
import { ADMIN_TOKEN, LogCapture } from '../support/admin-app.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

@Injectable()
class Quotes {
  @Resilient('quotes')
  async quote(): Promise<string> {
    return 'quoted';
  }
}

@Controller()
class QuotesController {
  constructor(private readonly quotes: Quotes) {}
  @Get('quote')
  quote() {
    return this.quotes.quote();
  }
}

const maxAttempts = (settings: ResilienceSettings) => settings.resolve('quotes').retry.maxAttempts;

describe('a watched configuration file', () => {
  it('is applied when it changes (written in place or replaced), and a broken one is refused, keeping the version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resilience-reload-'));
    const file = join(dir, 'resilience.yaml');
    const yaml = (attempts: number) =>
      `resilience:\n  metrics: { enabled: false }\n  services:\n    quotes:\n      retry: { maxAttempts: ${attempts} }\n`;
    writeFileSync(file, yaml(2));
    @Module({
      imports: [
        ResilienceModule.forRoot({
          metrics: { enabled: false },
          reload: { watch: file, debounce: '50ms' },
          services: { quotes: { retry: { maxAttempts: 2 } } },
        }),
      ],
      controllers: [QuotesController],
      providers: [Quotes],
    })
    class WatchedModule {}
    const { app } = await startHttpApp(WatchedModule, 'express');
    try {
      const settings = app.get(ResilienceSettings);
      const results: string[] = [];
      settings.onReload((result) => results.push(`${result.result} ${result.version}`));
      writeFileSync(file, yaml(4));
      await until('the edit is applied', () => maxAttempts(settings) === 4);
      assert.equal(settings.version, 2);
      // An editor's save: a new file renamed over the old one.
      writeFileSync(`${file}.tmp`, yaml(5));
      renameSync(`${file}.tmp`, file);
      await until('the replaced file is applied', () => maxAttempts(settings) === 5);
      writeFileSync(file, 'resilience:\n  services: [not: a map');
      await until('the broken file is reported', () => results.some((line) => line.startsWith('invalid')));
      assert.equal(maxAttempts(settings), 5, 'nothing changed');
      assert.equal(settings.version, 3);
      assert.deepEqual(
        results.filter((line) => !line.startsWith('unchanged')),
        ['applied 2', 'applied 3', 'invalid 3'],
      );
    } finally {
      await app.close();
    }
  });
});

describe('a watched file in a directory that does not exist', () => {
  it('fails the bootstrap naming reload.watch', async () => {
    @Module({
      imports: [
        ResilienceModule.forRoot({
          metrics: { enabled: false },
          reload: { watch: join(tmpdir(), `no-such-dir-${process.pid}`, 'resilience.yaml') },
        }),
      ],
    })
    class MissingModule {}
    await assert.rejects(startHttpApp(MissingModule, 'express'), (e: Error) =>
      /reload\.watch: cannot watch .*no-such-dir.*ENOENT/.test(e.message),
    );
  });
});

describe('reload() with no argument re-reads ConfigService', () => {
  it('takes what ConfigService holds now', async () => {
    const values = { resilience: { metrics: { enabled: false }, services: { quotes: { retry: { maxAttempts: 2 } } } } };
    @Module({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => values] }),
        ResilienceModule.forRoot(),
      ],
      providers: [Quotes],
    })
    class FromConfigModule {}
    const { app } = await startHttpApp(FromConfigModule, 'express');
    try {
      const settings = app.get(ResilienceSettings);
      assert.equal(maxAttempts(settings), 2, 'read from ConfigService at bootstrap');
      const configService = app.get((await import('@nestjs/config')).ConfigService);
      configService.set('resilience.services.quotes.retry.maxAttempts', 3);
      const result = settings.reload();
      assert.equal(result.result, 'applied', JSON.stringify(result.issues));
      assert.equal(result.source, 'configService');
      assert.equal(maxAttempts(settings), 3);
    } finally {
      await app.close();
    }
  });
});

for (const platform of PLATFORMS) {
  describe(`reloading through the admin API (${platform})`, () => {
    it('applies a configuration, refuses a bad one with every path (400), lists the reloads, audits each', async () => {
      @Module({
        imports: [
          ResilienceModule.forRoot({
            metrics: { enabled: false },
            admin: { enabled: true, path: '/ops', token: ADMIN_TOKEN },
            services: { quotes: { retry: { maxAttempts: 2 } } },
          }),
        ],
        controllers: [QuotesController],
        providers: [Quotes],
      })
      class AdminModule {}
      const logs = new LogCapture();
      const { app, url } = await startHttpApp(AdminModule, platform, undefined, undefined, (a) => a.useLogger(logs));
      try {
        const post = (body: unknown, token = ADMIN_TOKEN) =>
          fetch(`${url}/ops/config/reload`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        assert.equal((await post({ config: {} }, 'wrong')).status, 401);
        const bad = await post({ config: { services: { quotes: { retry: { maxAttempts: -1 } } } } });
        assert.equal(bad.status, 400);
        const refused = (await bad.json()) as { result: string; issues: { path: string }[]; version: number };
        assert.equal(refused.result, 'invalid');
        assert.deepEqual(
          refused.issues.map((i) => i.path),
          ['services.quotes.retry.maxAttempts'],
        );
        const good = await post({ config: { services: { quotes: { retry: { maxAttempts: 4 } } } } });
        assert.equal(good.status, 201);
        assert.deepEqual(
          { ...((await good.json()) as object), changed: undefined, warnings: undefined },
          { result: 'applied', version: 2, issues: [], source: 'admin API', changed: undefined, warnings: undefined },
        );
        assert.equal(maxAttempts(app.get(ResilienceSettings)), 4);
        assert.equal(await (await fetch(`${url}/quote`)).text(), 'quoted');
        const listed = (await (
          await fetch(`${url}/ops/config/reloads`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
        ).json()) as { version: number; recent: { result: string }[] };
        assert.equal(listed.version, 2);
        assert.deepEqual(
          listed.recent.map((r) => r.result),
          ['applied', 'invalid'],
        );
        const audit = logs.audit().map((line) => `${line.what}: ${line.outcome}`);
        assert.ok(audit.includes('reload the configuration: done'), audit.join('\n'));
        assert.ok(audit.some((line) => line.startsWith('reload the configuration: failed')));
      } finally {
        await app.close();
      }
    });
  });
}
