import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root (tests run from dist/test). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * Where installed apps are kept (FIXTURE_CACHE, else nest-resilience-fixtures in the system's
 * temporary directory). Never inside the repository: Node resolves a package an app lacks from
 * every node_modules above it, so an app under the repository would find the repository's own
 * devDependencies (ioredis, say) and pass where a user's app fails.
 */
export const CACHE = process.env.FIXTURE_CACHE ?? join(tmpdir(), 'nest-resilience-fixtures');
if (CACHE.startsWith(ROOT)) throw new Error(`FIXTURE_CACHE (${CACHE}) must be outside the repository (${ROOT})`);
export const run = promisify(execFile);

/** npm in `cwd`; a failure carries npm's whole output. */
export async function npm(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout, stderr } = await run('npm', args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, CI: '1', ...env },
    });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`);
  }
}

let tarball: Promise<string> | undefined;
/** `npm pack` of the built package, once per run. */
export function packed(): Promise<string> {
  tarball ??= (async () => {
    // A directory of this process's own: test files run side by side, each packing once.
    mkdirSync(CACHE, { recursive: true });
    const out = mkdtempSync(join(CACHE, 'pack-'));
    process.once('exit', () => rmSync(out, { recursive: true, force: true }));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', out], { cwd: ROOT });
    const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
    return join(out, filename);
  })();
  return tarball;
}
