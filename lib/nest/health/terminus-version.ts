import { packageRequire } from '../../runtime/package-require.js';

let hasDegraded: boolean | undefined;

/** Terminus 12 knows a `degraded` status; 11 drops a result that has it. Absent: assume the newer. */
export function terminusHasDegraded(): boolean {
  if (hasDegraded === undefined) {
    try {
      const { version } = packageRequire('@nestjs/terminus/package.json') as { version: string };
      hasDegraded = Number(version.split('.')[0]) >= 12;
    } catch {
      hasDegraded = true;
    }
  }
  return hasDegraded;
}
