import { readFileSync } from 'node:fs';
import { packageRequire } from '../../../runtime/package-require.js';

/** The files of lib/nest/admin/client, in the order they are joined (each uses the ones before it). */
export const CLIENT_PARTS = ['shared', 'widgets', 'render', 'console'];

let script: string | undefined;

/**
 * The page's script: lib/nest/admin/client/*.ts, compiled for browsers by their own
 * tsconfig (tsconfig.client.json) beside this build, joined into one function scope so
 * nothing leaks onto `window`. Read once, on first request.
 */
export function consoleScript(): string {
  script ??= `(() => {\n${CLIENT_PARTS.map((part) =>
    readFileSync(packageRequire.resolve(`../nest/admin/client/${part}.js`), 'utf8'),
  ).join('\n')}\n})();\n`;
  return script;
}
