import { optionalPeer } from '../../runtime/optional-peer.js';

let hasDegraded: boolean | undefined;

/** Terminus 12 knows a `degraded` status; 11 drops a result that has it. Absent: assume the newer. */
export function terminusHasDegraded(): boolean {
  if (hasDegraded === undefined) {
    const version = optionalPeer<{ version: string }>('@nestjs/terminus/package.json')?.version;
    hasDegraded = version === undefined || Number(version.split('.')[0]) >= 12;
  }
  return hasDegraded;
}
