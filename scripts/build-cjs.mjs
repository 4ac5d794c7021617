// The CommonJS build, beside the ESM one (dist/lib): for runtimes that cannot require() an
// ES module (Jest's module system; Node itself can and loads the ESM build, see package.json
// "exports"). Same sources, compiled with module: commonjs into dist/cjs. With it, the
// package's one set of declarations (tsconfig.types.json, comments kept: they are what an
// editor shows), in CommonJS form: every condition of "exports" reads them, so an app's tsc
// reads one copy, and a CommonJS app on any TypeScript 5 can use them.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
execFileSync(`${root}node_modules/.bin/tsc`, ['-p', `${root}tsconfig.cjs.json`], { stdio: 'inherit' });
execFileSync(`${root}node_modules/.bin/tsc`, ['-p', `${root}tsconfig.types.json`], { stdio: 'inherit' });

// The one line that differs between the builds: where require() resolves from.
const helper = `${root}dist/cjs/runtime/package-require.js`;
const source = readFileSync(helper, 'utf8');
const rewritten = source.replace('createRequire)(import.meta.url)', 'createRequire)(__filename)');
if (rewritten === source) throw new Error(`build-cjs: import.meta.url not found in ${helper}`);
writeFileSync(helper, rewritten);
// The admin console's browser script (tsconfig.client.json) is the same files in both builds.
cpSync(`${root}dist/lib/nest/admin/client`, `${root}dist/cjs/nest/admin/client`, { recursive: true });
writeFileSync(`${root}dist/cjs/package.json`, `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);

// Nothing else may use import.meta: it is a syntax error in CommonJS.
let left = '';
try {
  left = execFileSync('grep', ['-rl', 'import\\.meta', `${root}dist/cjs`, '--include=*.js'], {
    encoding: 'utf8',
  }).trim();
} catch (error) {
  if (error.status !== 1) throw error; // 1: no match
}
if (left) throw new Error(`build-cjs: import.meta left in ${left}`);
