import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

/**
 * `npm ci` installs exactly the lockfile: a package in it whose `engines.node` rejects a Node
 * version the README lists prints an EBADENGINE warning there, and one with an install script
 * that `allowScripts` does not decide prints an install-scripts warning. Read from the lockfile
 * npm installs, for the Node versions the package and the README name.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const json = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
  hasInstallScript?: boolean;
}

const manifest = json('package.json') as { engines: { node: string }; allowScripts?: Record<string, boolean> };
const lock = json('package-lock.json') as { packages: Record<string, LockedPackage> };

/** The oldest Node the package accepts, the Node 22 of the README's table, and this one. */
function listedNodes(): string[] {
  const oldest = semver.minVersion(manifest.engines.node)?.version;
  assert.ok(oldest, 'package.json engines.node names a range');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const fromTable = [...readme.matchAll(/\| (\d+\.\d+) and (\d+\.\d+) \|/g)].flatMap(([, a, b]) => [a, b]);
  assert.ok(fromTable.length > 0, 'the README lists the Node versions it is tested on');
  return [...new Set([oldest, ...fromTable.map((v) => `${v}.0`), process.versions.node])];
}

const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe("the repository's own install", () => {
  it('no locked package asks for a Node the README lists as supported (npm ci prints no EBADENGINE)', () => {
    const nodes = listedNodes();
    const unsupported: string[] = [];
    for (const [path, pkg] of Object.entries(lock.packages)) {
      const range = !path || Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
      if (!range) continue;
      for (const node of nodes) {
        if (!semver.satisfies(node, range))
          unsupported.push(`${nameOf(path)}@${pkg.version} wants ${range}, not ${node}`);
      }
    }
    assert.deepEqual(unsupported, [], `checked on Node ${nodes.join(', ')}`);
  });

  it('every locked package with an install script is allowed or denied (no install-scripts warning)', () => {
    const decided = manifest.allowScripts ?? {};
    const undecided = Object.entries(lock.packages)
      .filter(([path, pkg]) => path && pkg.hasInstallScript)
      .map(([path]) => nameOf(path))
      .filter((name) => !(name in decided));
    assert.deepEqual(undecided, []);
  });
});
