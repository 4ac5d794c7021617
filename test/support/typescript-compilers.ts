import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, npm, ROOT } from './packed-package.js';

export interface Compiler {
  label: string;
  /** The tsc script, run with this Node. */
  tsc: string;
}

const TYPESCRIPT_5 = '5.9.3';

/**
 * The TypeScript of this repository (7) and the TypeScript 5 that `nest new` gives apps, which
 * is installed once into FIXTURE_CACHE (npm registry) and reused: both compilers, since users
 * have both and each emits decorator metadata itself.
 */
export async function compilers(): Promise<Compiler[]> {
  const dir = join(CACHE, `typescript-${TYPESCRIPT_5}`);
  const tsc5 = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc5)) {
    await npm(ROOT, ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', `typescript@${TYPESCRIPT_5}`]);
  }
  return [
    { label: 'TypeScript 7', tsc: join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc') },
    { label: `TypeScript ${TYPESCRIPT_5}`, tsc: tsc5 },
  ];
}
