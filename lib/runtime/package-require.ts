import { createRequire } from 'node:module';

/**
 * require() resolving from this package, for optional peers loaded synchronously and only
 * when used. The CommonJS build (scripts/build-cjs.mjs) rewrites this module URL to
 * `__filename`, the one line that differs between the builds.
 */
// biome-ignore lint/suspicious/noTsIgnore: valid in one build, an error in the other (expect-error would fail the ESM one)
// @ts-ignore TS1343 in the CommonJS build's check only
export const packageRequire: NodeJS.Require = createRequire(import.meta.url);
