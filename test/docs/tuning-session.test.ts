import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'dist', 'lib', 'cli', 'bin.js');
const page = readFileSync(join(ROOT, 'docs', 'tuning.md'), 'utf8');

/** The files the page writes (`<!-- file: name -->` before a code block) and its console sessions. */
function parse() {
  const files: [string, string][] = [];
  const sessions: { args: string[]; output: string; code: number }[] = [];
  for (const match of page.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)```/g)) files.push([match[1], match[2]]);
  // A session marked "checked by <test>" needs more than files (a Prometheus): that test compares it.
  for (const match of page.matchAll(
    /(<!-- session checked by \S+[^>]*-->\n)?```console\n\$ nest-resilience (.*)\n([\s\S]*?)\(exit (\d+)\)\n```/g,
  )) {
    if (match[1]) continue;
    sessions.push({ args: match[2].split(' '), output: match[3], code: Number(match[4]) });
  }
  return { files, sessions };
}

/** As a reader's shell would run it: no NODE_ENV (the page's files choose their environment). */
function withoutNodeEnv(): NodeJS.ProcessEnv {
  const { NODE_ENV: _, ...env } = process.env;
  return env;
}

describe('docs/tuning.md: every session shown is what the command prints', () => {
  const { files, sessions } = parse();
  const dir = mkdtempSync(join(tmpdir(), 'tuning-doc-'));
  for (const [name, content] of files) writeFileSync(join(dir, name), content);
  // Larger inputs the page names (a recorded trace) live in docs/examples.
  cpSync(join(ROOT, 'docs', 'examples'), dir, { recursive: true });

  it('shows at least two sessions over its own files', () => {
    assert.ok(files.length >= 1 && sessions.length >= 2, `${files.length} files, ${sessions.length} sessions`);
  });

  for (const session of sessions) {
    it(`nest-resilience ${session.args.join(' ')}`, async () => {
      const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(process.execPath, [BIN, ...session.args], { cwd: dir, env: withoutNodeEnv() }, (error, out) =>
          resolve({ code: error ? Number(error.code) : 0, stdout: out }),
        ),
      );
      assert.equal(stdout, session.output);
      assert.equal(code, session.code);
    });
  }
});
