import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CACHE, npm, packed, ROOT, run } from '../support/packed-package.js';
import { freePort } from '../support/redis-server.js';

/**
 * A newcomer's first ten minutes, as the README tells them: an empty directory, the README's
 * install line (with the packed tarball for `nest-resilience`), the Quick start's files as
 * written, the TypeScript and Node types `nest new` gives every app, and `node dist/main.js`.
 */
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced block after `<!-- marker -->`. */
function blockAfter(marker: string): string {
  const at = README.indexOf(`<!-- ${marker} -->`);
  assert.ok(at >= 0, `README has <!-- ${marker} -->`);
  const fence = /```\w*\n([\s\S]*?)```/.exec(README.slice(at));
  assert.ok(fence, `a code block follows <!-- ${marker} -->`);
  return fence[1].trim();
}

/** The TypeScript block whose first line is `// <file>`. */
function fileBlock(file: string, after = 0): string {
  const at = README.indexOf(`\`\`\`ts\n// ${file}\n`, after);
  assert.ok(at >= 0, `README has a block for ${file}`);
  const body = README.slice(at + '```ts\n'.length);
  return body.slice(0, body.indexOf('```'));
}

/** The block under a heading, whichever file it is (the production Quick start). */
function blockUnder(heading: string): string {
  const at = README.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `README has ${heading}`);
  const fence = /```ts\n([\s\S]*?)```/.exec(README.slice(at));
  assert.ok(fence);
  return fence[1];
}

/** `nest new`'s compiler settings (CommonJS, decorators with metadata). */
const NEST_NEW_TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    resolvePackageJsonExports: true,
    esModuleInterop: true,
    isolatedModules: true,
    declaration: true,
    removeComments: true,
    emitDecoratorMetadata: true,
    experimentalDecorators: true,
    allowSyntheticDefaultImports: true,
    target: 'ES2023',
    sourceMap: true,
    outDir: './dist',
    baseUrl: './',
    incremental: true,
    skipLibCheck: true,
    strictNullChecks: true,
    forceConsistentCasingInFileNames: true,
    noImplicitAny: false,
    strictBindCallApply: false,
    noFallthroughCasesInSwitch: false,
  },
  include: ['src'],
};

/** The app's process: its output so far, and a way to stop it. */
function start(dir: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const { NODE_TEST_CONTEXT: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env: { ...inherited, ...env } });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return { child, output: () => output };
}

/** GET until the app answers (it is booting), or its process ends. */
async function getWhenUp(url: string, app: { child: ChildProcess; output: () => string }): Promise<Response> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (app.child.exitCode !== null) assert.fail(`the app exited ${app.child.exitCode}:\n${app.output()}`);
    try {
      return await fetch(url);
    } catch {
      if (Date.now() > deadline) assert.fail(`no answer from ${url} in 60 s:\n${app.output()}`);
      await sleep(100);
    }
  }
}

/** SIGTERM; how the process ended: 'closed' when Nest's shutdown hooks ran and re-raised the signal. */
async function stop(child: ChildProcess): Promise<string> {
  if (child.exitCode !== null) return `exited ${child.exitCode} before SIGTERM`;
  child.kill('SIGTERM');
  const [code, signal] = (await exited(child, 30_000)) as [number | null, string | null];
  return signal === 'SIGTERM' || code === 0 ? 'closed' : `exit ${code} ${signal}`;
}

/** The process's exit, or a failure after `ms` (a process that should have ended and did not). */
async function exited(child: ChildProcess, ms: number): Promise<unknown[]> {
  if (child.exitCode !== null || child.signalCode !== null) return [child.exitCode, child.signalCode];
  const timeout = AbortSignal.timeout(ms);
  try {
    return await once(child, 'exit', { signal: timeout });
  } catch {
    child.kill('SIGKILL');
    return assert.fail(`the process did not end in ${ms} ms`);
  }
}

describe("the README's install line and Quick start in an empty directory", () => {
  // Outside the repository (see CACHE): the app finds only what the README had it install.
  const dir = join(CACHE, 'readme-app');
  let inventory: Server;
  let inventoryUrl: string;

  before(async () => {
    inventory = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ count: request.url === '/stock/abc' ? 7 : 0 }));
    });
    inventory.listen(0, '127.0.0.1');
    await once(inventory, 'listening');
    inventoryUrl = `http://127.0.0.1:${(inventory.address() as { port: number }).port}`;
  });
  after(() => inventory.close());

  it('installs with the README line, then runs the no-Redis Quick start under NODE_ENV=production', async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'src'), { recursive: true });
    await npm(dir, ['init', '-y']);
    const install = blockAfter('install: fresh app');
    assert.match(install, /^npm install nest-resilience( [@\w/.-]+)+$/, 'one npm install line');
    const tarball = await packed();
    const quiet = { npm_config_audit: 'false', npm_config_fund: 'false' };
    await npm(
      dir,
      install
        .split(' ')
        .slice(1)
        .map((word) => (word === 'nest-resilience' ? tarball : word)),
      quiet,
    );
    // What `nest new` gives every app besides: the compiler and Node's types.
    await npm(dir, ['install', '--save-dev', 'typescript@5', '@types/node@20'], quiet);

    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(NEST_NEW_TSCONFIG, null, 2));
    writeFileSync(join(dir, 'src', 'app.module.ts'), fileBlock('src/app.module.ts'));
    writeFileSync(join(dir, 'src', 'main.ts'), fileBlock('src/main.ts'));
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: dir }).catch(
      (error: { stdout?: string; message: string }) => assert.fail(`tsc: ${error.stdout ?? ''}${error.message}`),
    );

    const port = await freePort();
    // NODE_ENV=production, as in a container: the Quick start still needs no Redis.
    const app = start(dir, { PORT: String(port), INVENTORY_URL: inventoryUrl, NODE_ENV: 'production' });
    try {
      const response = await getWhenUp(`http://127.0.0.1:${port}/stock/abc`, app);
      assert.equal(response.status, 200, app.output());
      assert.deepEqual(await response.json(), { sku: 'abc', count: 7 });
      assert.doesNotMatch(app.output(), /ioredis|redis/i, 'nothing asks for Redis');
    } finally {
      assert.equal(await stop(app.child), 'closed', `SIGTERM ends the app cleanly:\n${app.output()}`);
    }
  });

  it('the production Quick start names its missing client, then runs once the README line installs it', async () => {
    const redisUrl = process.env.REDIS_URL_TEST;
    assert.ok(redisUrl, 'test/run.mjs starts a redis-server and sets REDIS_URL_TEST');
    const production = blockUnder('### In production (Redis)');
    writeFileSync(join(dir, 'src', 'app.module.ts'), production);
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: dir });
    const port = await freePort();
    const env = { PORT: String(port), REDIS_URL: redisUrl };

    const without = start(dir, env);
    const [code] = (await exited(without.child, 60_000)) as [number | null];
    assert.notEqual(code, 0, 'the boot fails without the Redis client');
    assert.match(without.output(), /npm i(nstall)? ioredis/, 'and says what to install');

    const install = blockAfter('install: production');
    assert.equal(install, 'npm install ioredis');
    await npm(dir, install.split(' ').slice(1), { npm_config_audit: 'false', npm_config_fund: 'false' });
    const app = start(dir, env);
    try {
      const response = await getWhenUp(`http://127.0.0.1:${port}/`, app);
      assert.equal(response.status, 404, 'up (the Quick start has no route)');
    } finally {
      assert.equal(await stop(app.child), 'closed', app.output());
    }
  });
});
