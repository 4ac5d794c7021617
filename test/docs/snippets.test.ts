import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';

/**
 * Every TypeScript block in README.md and docs/*.md is checked as written. The line
 * before its fence says how (the test fails on a block that says nothing):
 *   <!-- check: boot -->        a whole file: compiled, and its exported AppModule booted
 *   <!-- check: compile -->     a whole file: compiled (it reads files or servers we do not have)
 *   <!-- check: declarations --> classes and functions, compiled after the prelude
 *   <!-- check: decorators -->  each line starting with @ decorates a method of its own
 *   <!-- check: members -->     class members: compiled inside a class
 *   <!-- check: statements -->  compiled inside an async function
 *   <!-- check: none: why -->   not meant to run (a shape, a signature list)
 * Fragments get the prelude: the package's names and a few declared stand-ins.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORK = join(ROOT, 'dist', 'snippets');

/** The package's runtime names, the Nest names the docs use, and declared stand-ins for the rest. */
async function prelude(): Promise<string> {
  const names = Object.keys(await import('../../lib/index.js')).filter((n) => n !== 'default');
  return `import { HttpService } from '@nestjs/axios';
import { Controller, Get, Inject, Injectable, Module, UseGuards } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ${names.join(', ')} } from 'nest-resilience';
import type { ResilienceConfig } from 'nest-resilience';
${STAND_INS.map(([, d]) => d).join('\n')}
`;
}

/** The reader's own objects, which blocks use without defining: [name, declaration]. */
const STAND_INS: [string, string][] = [
  ['keyring', 'declare const keyring: { ownerOf(key: string): string | undefined; has(key: string): boolean };'],
  ['apiKeys', 'declare const apiKeys: { ownerOf(key: string): string | undefined };'],
  ['gateway', 'declare const gateway: { charge(data: unknown): Promise<unknown> };'],
  ['data', 'declare const data: unknown;'],
  ['customerId', 'declare const customerId: string;'],
  ['resilienceService', "declare const resilienceService: import('nest-resilience').ResilienceService;"],
  ['config', "declare const config: import('nest-resilience').ResilienceConfig;"],
  ['ApiKeyGuard', 'declare class ApiKeyGuard { canActivate(): boolean }'],
  ['Order', 'type Order = { id: string };'],
  ['Payment', 'type Payment = { id: string; amount: number };'],
  ['PaymentData', 'type PaymentData = { amount: number };'],
  ['PaymentGateway', 'declare class PaymentGateway { charge(payment: unknown): Promise<unknown> }'],
  ['payment', 'declare const payment: { id: string; amount: number };'],
  ['paymentData', 'declare const paymentData: { amount: number };'],
  ['client', 'declare const client: { fetch(): Promise<unknown> };'],
  ['alertOpsTeam', 'declare function alertOpsTeam(...args: unknown[]): void;'],
  ['circuit', "declare const circuit: import('nest-resilience').CircuitSettings;"],
  ['retry', "declare const retry: import('nest-resilience').RetrySettings;"],
  ['rateLimiter', "declare const rateLimiter: import('nest-resilience').RateSettings;"],
  ['dlq', "declare const dlq: import('nest-resilience').DlqSettings;"],
  ['stripe', 'declare const stripe: { charges: { create(charge: unknown): Promise<unknown> } };'],
  ['charge', 'declare const charge: { amount: number };'],
];

/** The stand-ins a block uses and does not define itself. */
function standInsFor(code: string): string {
  return STAND_INS.filter(([name]) => {
    const used = new RegExp(`\\b${name}\\b`).test(code);
    const defined = new RegExp(`\\b(const|let|var|function|class|type|import)\\s+(\\{[^}]*\\b)?${name}\\b`).test(code);
    return used && !defined;
  })
    .map(([, declaration]) => declaration)
    .join('\n');
}

interface Snippet {
  file: string;
  line: number;
  check: string;
  code: string;
}

function snippets(): Snippet[] {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const found: Snippet[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
      const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
      const marker = /^<!-- check: ([a-z]+)(?::[^>]*)? -->$/.exec(lines[i - 1] ?? '');
      found.push({ file, line: i + 1, check: marker?.[1] ?? 'unmarked', code: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
  }
  return found;
}

function wrap(snippet: Snippet, index: number, SNIPPET_PRELUDE: string): string {
  switch (snippet.check) {
    case 'boot':
      return snippet.code;
    case 'compile':
      return `${snippet.code}\n${standInsFor(snippet.code)}\n`;
    case 'declarations':
      return `${SNIPPET_PRELUDE}\n${snippet.code}\nexport {};\n`;
    case 'decorators': {
      const methods = snippet.code
        .split('\n')
        .filter((l) => l.trimStart().startsWith('@'))
        .map(
          (l, i) =>
            `  ${l.replace(/\s+\/\/.*$/, '')}\n  async method${i}(..._args: unknown[]): Promise<unknown> { return undefined; }`,
        );
      return `${SNIPPET_PRELUDE}\n@Injectable()\nexport class Snippet${index} {\n${methods.join('\n')}\n}\n`;
    }
    case 'members':
      return `${SNIPPET_PRELUDE}\n@Injectable()\nexport class Snippet${index} {\n  [key: string]: any;\n${snippet.code}\n}\n`;
    case 'statements':
      return `${SNIPPET_PRELUDE}\nexport async function snippet${index}(): Promise<void> {\n${snippet.code}\n}\n`;
    default:
      return '';
  }
}

const all = snippets();
const runnable = all.filter((s) => s.check !== 'none');

describe('documented code blocks, as written', () => {
  it('every TypeScript block says how it is checked', () => {
    const known = ['boot', 'compile', 'declarations', 'decorators', 'members', 'statements', 'none'];
    const unmarked = all.filter((s) => !known.includes(s.check)).map((s) => `${s.file}:${s.line}`);
    assert.deepEqual(unmarked, [], 'blocks with no <!-- check: ... --> line before the fence');
    assert.ok(all.filter((s) => s.check === 'boot').length >= 1);
  });

  it('they compile against the built package (one tsc run over all of them)', async () => {
    const SNIPPET_PRELUDE = await prelude();
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    runnable.forEach((s, i) => {
      writeFileSync(
        join(WORK, `snippet-${i}.ts`),
        `// ${s.file}:${s.line} (${s.check})\n${wrap(s, i, SNIPPET_PRELUDE)}`,
      );
    });
    writeFileSync(
      join(WORK, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: {
          rootDir: '.',
          outDir: 'out',
          declaration: false,
          sourceMap: false,
          inlineSources: false,
          noUnusedLocals: false,
        },
        include: ['*.ts'],
      }),
    );
    try {
      execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(WORK, 'tsconfig.json')], {
        encoding: 'utf8',
      });
    } catch (error) {
      const out = (error as { stdout?: string }).stdout ?? String(error);
      // Name each failing block by its document and line.
      const named = out.replace(/snippet-(\d+)\.ts\((\d+),/g, (_m, i: string, l: string) => {
        const s = runnable[Number(i)];
        return `${s.file}:${s.line} [${s.check}] (generated line ${l}),`;
      });
      assert.fail(`documented code does not compile:\n${named}`);
    }
  });

  for (const [i, s] of runnable.entries()) {
    if (s.check !== 'boot') continue;
    it(`${s.file}:${s.line} boots`, async () => {
      const { AppModule } = (await import(pathToFileURL(join(WORK, 'out', `snippet-${i}.js`)).href)) as {
        AppModule: new () => unknown;
      };
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      await app.init();
      await app.close();
    });
  }
});
