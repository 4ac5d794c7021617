import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CircuitBreaker, ResilienceConfigError, ResilienceModule } from '../../lib/index.js';
import { startHttpApp } from '../support/http-apps.js';

const worker = fileURLToPath(new URL('../support/unhandled-worker.js', import.meta.url));

describe('a decorated call nobody handles still reaches unhandledRejection (a real child process)', () => {
  it('for every decorator and @Resilient, async rejections and sync throws alike', () => {
    const output = execFileSync(process.execPath, [worker], { encoding: 'utf8', timeout: 30_000 });
    const reported = JSON.parse(output.trim().split('\n').at(-1) as string) as Record<string, boolean>;
    assert.equal(reported.undecorated, true, 'the control: Node reports the undecorated one');
    assert.deepEqual(
      Object.entries(reported).filter(([, seen]) => !seen),
      [],
      'calls whose rejection vanished',
    );
    assert.ok(Object.keys(reported).length >= 9);
  });
});

describe('synchronous methods', () => {
  it('a provider method declared to return a plain value is refused at bootstrap, by name', async () => {
    @Injectable()
    class Calculator {
      @CircuitBreaker('calculator')
      add(n: number): number {
        return n + 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Calculator],
    }).compile();
    await assert.rejects(
      moduleRef.init(),
      (error: unknown) =>
        error instanceof ResilienceConfigError &&
        /Calculator\.add: is declared to return Number/.test(error.message) &&
        /declare it async/.test(error.message),
    );
  });

  it('a sync route handler is fine: Nest awaits whatever a handler returns', async () => {
    @Injectable()
    class Formatter {
      format(n: number): string {
        return `#${n}`;
      }
    }
    @Controller()
    class LabelsController {
      constructor(private readonly formatter: Formatter) {}
      @Get('label')
      @CircuitBreaker('labels')
      label(): string {
        return this.formatter.format(7);
      }
    }
    @Module({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      controllers: [LabelsController],
      providers: [Formatter],
    })
    class AppModule {}
    const { app, url } = await startHttpApp(AppModule, 'express');
    try {
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      assert.equal(await (await fetch(`${url}/label`)).text(), '#7');
      await new Promise((resolve) => setImmediate(resolve));
      process.off('warning', onWarning);
      assert.deepEqual(
        warnings.filter((w) => (w as { code?: string }).code === 'NEST_RESILIENCE_SYNC_METHOD').map((w) => w.message),
        [],
        'no warning for a handler Nest awaits',
      );
    } finally {
      await app.close();
    }
  });

  it('a method of undeclared type that returns a plain value is warned about once, by name', async () => {
    @Injectable()
    class Legacy {
      // biome-ignore lint/suspicious/noExplicitAny: the point is an undeclared return type
      @CircuitBreaker('legacy') total(n: number): any {
        return n * 2;
      }
    }
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Legacy],
    }).compile();
    await moduleRef.init();
    try {
      const legacy = moduleRef.get(Legacy);
      assert.equal(await legacy.total(2), 4);
      assert.equal(await legacy.total(3), 6);
      await new Promise((resolve) => setImmediate(resolve));
      const ours = warnings.filter((w) => (w as { code?: string }).code === 'NEST_RESILIENCE_SYNC_METHOD');
      assert.equal(ours.length, 1);
      assert.match(ours[0].message, /Legacy\.total returned a plain value/);
    } finally {
      process.off('warning', onWarning);
      await moduleRef.close();
    }
  });
});
