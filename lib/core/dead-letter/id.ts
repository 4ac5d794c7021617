import { randomBytes } from 'node:crypto';

let counter = 0;
const processTag = randomBytes(4).toString('hex');

/** A unique id whose string order is creation order (time, then a per-process counter). */
export function letterId(nowMs: number): string {
  counter = (counter + 1) % 36 ** 6;
  return `${Math.floor(nowMs).toString(36).padStart(9, '0')}-${counter.toString(36).padStart(6, '0')}-${processTag}`;
}
