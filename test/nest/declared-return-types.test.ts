import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HttpModule } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { lastValueFrom, type Observable } from 'rxjs';
import { ResilienceConfigError, ResilienceModule } from '../../lib/index.js';
import { isDeclaredSynchronous } from '../../lib/nest/decorators/synchronous-methods.js';
import { ROOT } from '../support/packed-package.js';
import { type Compiler, compilers } from '../support/typescript-compilers.js';

/**
 * The synchronous-method guard reads `design:returntype`, which tsc writes: so the cases are
 * compiled by real tsc (this repository's TypeScript 7 and the TypeScript 5 of `nest new`),
 * with nest new's settings under both isolatedModules values, and loaded as an app loads them.
 * The method's declared type, and whether the guard may refuse it (only the certainly
 * synchronous ones):
 */
const CASES: [method: string, declared: string, refused: boolean][] = [
  ['typeOnlyObservable', 'Observable<unknown> (import { type Observable })', false],
  ['importTypeObservable', 'Observable<unknown> (import type { Observable as … })', false],
  ['valueObservable', 'Observable<unknown> (a value import)', false],
  ['promise', 'Promise<number>', false],
  ['promiseAlias', 'type Later = Promise<string>', false],
  ['promiseUnion', 'Promise<number> | undefined', false],
  ['genericAlias', 'type Stream<T> = Observable<T>', false],
  ['subject', 'Subject<number>', false],
  ['thenableClass', 'a class with then()', false],
  ['functionType', '() => void (Function: undecided, watched at the first call)', false],
  ['anyType', 'any', false],
  ['inferred', '(none)', false],
  ['number', 'number', true],
  ['string', 'string', true],
  ['boolean', 'boolean', true],
  ['array', 'number[]', true],
  ['date', 'Date', true],
  ['map', 'Map<string, number>', true],
  ['ownClass', 'a class of the app', true],
];

const SOURCE = `import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import { map, type Observable, Subject } from 'rxjs';
import type { Observable as ObservableType } from 'rxjs';
import { Observable as ObservableValue, of } from 'rxjs';
import { Resilient } from 'nest-resilience';

type Later = Promise<string>;
type Stream<T> = Observable<T>;
const noop: MethodDecorator = () => {};
export class Deferred { then(resolve: (v: number) => void) { resolve(1); } }
export class Receipt { id = 'r-1'; }

/** Every case, decorated so tsc writes its metadata; read by the test. */
export class Cases {
  @noop typeOnlyObservable(): Observable<unknown> { return of(1); }
  @noop importTypeObservable(): ObservableType<unknown> { return of(1); }
  @noop valueObservable(): ObservableValue<unknown> { return of(1); }
  @noop promise(): Promise<number> { return Promise.resolve(1); }
  @noop promiseAlias(): Later { return Promise.resolve(''); }
  @noop promiseUnion(): Promise<number> | undefined { return undefined; }
  @noop genericAlias(): Stream<number> { return of(1); }
  @noop subject(): Subject<number> { return new Subject(); }
  @noop thenableClass(): Deferred { return new Deferred(); }
  @noop functionType(): () => void { return () => {}; }
  @noop anyType(): any { return 1; }
  @noop inferred() { return 1; }
  @noop number(): number { return 1; }
  @noop string(): string { return ''; }
  @noop boolean(): boolean { return true; }
  @noop array(): number[] { return []; }
  @noop date(): Date { return new Date(); }
  @noop map(): Map<string, number> { return new Map(); }
  @noop ownClass(): Receipt { return new Receipt(); }
}

/** The issue's app: @nestjs/axios behind @Resilient, Observable imported as a type. */
@Injectable()
export class CatalogClient {
  constructor(private readonly http: HttpService) {}

  @Resilient('catalog')
  get(url: string): Observable<unknown> {
    return this.http.get(url).pipe(map((response) => response.data));
  }
}

/** Declared to return a plain number: refused at bootstrap, by name. */
@Injectable()
export class Counter {
  @Resilient('counter')
  next(n: number): number {
    return n + 1;
  }
}
`;

/** nest new's compiler settings; CommonJS, as nest new makes apps. */
function tsconfig(isolatedModules: boolean) {
  return {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'ES2023',
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      isolatedModules,
      strictNullChecks: true,
      noImplicitAny: false,
      skipLibCheck: true,
      types: [],
      outDir: 'out',
    },
    files: ['cases.ts'],
  };
}

const run = promisify(execFile);

/** Compiles the cases with `compiler` and loads them (the package by its name, as an app does). */
async function compile(compiler: Compiler, isolatedModules: boolean): Promise<Record<string, unknown>> {
  const slug = `${compiler.label.replace(/\W+/g, '-')}-isolated-${isolatedModules}`;
  const dir = join(ROOT, 'dist', 'emit-cases', slug);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }));
  // The package as an app has it installed: node_modules/nest-resilience, here a link to this repository.
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'nest-resilience'), 'dir');
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig(isolatedModules)));
  writeFileSync(join(dir, 'cases.ts'), SOURCE);
  await run(process.execPath, [compiler.tsc, '-p', dir]).catch((error: { stdout?: string; message: string }) =>
    assert.fail(`${compiler.label}: ${error.stdout ?? ''}${error.message}`),
  );
  return createRequire(join(dir, 'out', 'cases.js'))('./cases.js') as Record<string, unknown>;
}

describe('the synchronous-method guard, on what tsc emits for the return types people write', () => {
  let server: Server;
  let url: string;
  let builds: { label: string; module: Record<string, unknown> }[] = [];

  before(async () => {
    server = createServer((_, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ items: ['a', 'b'] }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/catalog`;
    builds = [];
    for (const compiler of await compilers()) {
      for (const isolatedModules of [true, false]) {
        builds.push({
          label: `${compiler.label}, isolatedModules ${isolatedModules}`,
          module: await compile(compiler, isolatedModules),
        });
      }
    }
  });
  after(() => server.close());

  it('refuses only declared types that are certainly synchronous', () => {
    for (const { label, module } of builds) {
      const prototype = (module.Cases as { prototype: object }).prototype;
      const verdicts = CASES.map(([method, declared]) => {
        const type = Reflect.getMetadata('design:returntype', prototype, method) as { name?: string } | undefined;
        return [method, declared, isDeclaredSynchronous(type), type?.name ?? 'none'];
      });
      assert.deepEqual(
        verdicts.map(([method, declared, refused]) => [method, declared, refused]),
        CASES,
        `${label}: emitted ${verdicts.map(([m, , , emitted]) => `${m}=${emitted}`).join(' ')}`,
      );
    }
  });

  it("the issue's app boots, and its Observable method returns an Observable of the response", async () => {
    const redisUrl = process.env.REDIS_URL_TEST;
    assert.ok(redisUrl, 'test/run.mjs starts a redis-server');
    // In memory, and with the rate limit counted in Redis (the pipeline awaits before it calls).
    for (const { label, module, redis } of builds.flatMap((build) => [
      { ...build, redis: undefined },
      { ...build, label: `${build.label}, Redis`, redis: { url: redisUrl } },
    ])) {
      const CatalogClient = module.CatalogClient as new (
        ...args: never[]
      ) => {
        get(url: string): Observable<unknown>;
      };
      const moduleRef = await Test.createTestingModule({
        imports: [
          HttpModule,
          ResilienceModule.forRoot({
            metrics: { provider: 'none' },
            ...(redis ? { redis } : {}),
            services: { catalog: { tier: 'standard' } },
          }),
        ],
        providers: [CatalogClient],
      }).compile();
      await moduleRef.init();
      try {
        const client = moduleRef.get(CatalogClient);
        for (let call = 1; call <= 2; call++) {
          const result = client.get(url);
          assert.equal(typeof result.pipe, 'function', `${label}, call ${call}: an Observable, as declared`);
          assert.deepEqual(await lastValueFrom(result), { items: ['a', 'b'] }, label);
        }
      } finally {
        await moduleRef.close();
      }
    }
  });

  it('a method declared to return a number is still refused at bootstrap, by name', async () => {
    for (const { label, module } of builds) {
      const Counter = module.Counter as new () => unknown;
      await assert.rejects(
        Test.createTestingModule({
          imports: [ResilienceModule.forRoot({ metrics: { provider: 'none' } })],
          providers: [Counter],
        })
          .compile()
          .then((m) => m.init()),
        (error: unknown) =>
          error instanceof ResilienceConfigError && /Counter\.next: is declared to return Number/.test(error.message),
        label,
      );
    }
  });
});
