import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const segments = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.log'));

/** Where each lost id's records are in the raw segments as killed (segment, offset, flag byte), or that none is. */
export function describeLoss(dir: string, lost: string[]): string {
  const lines = [`segments as killed: ${readdirSync(dir).join(', ')}`];
  const files = segments(dir).map((name) => ({ name, data: readFileSync(join(dir, name)) }));
  for (const name of files.map((f) => `${f.name}: ${f.data.length} bytes`)) lines.push(name);
  for (const id of lost.slice(0, 5)) {
    const found: string[] = [];
    for (const { name, data } of files) {
      for (let at = data.indexOf(id); at !== -1; at = data.indexOf(id, at + 1)) {
        const start = data.lastIndexOf(0x1e, at);
        found.push(
          `${name}@${start} flag ${String.fromCharCode(data[start + 1])} op ${data.toString('latin1', at - 12, at - 1)}`,
        );
      }
    }
    lines.push(`${id}: ${found.length > 0 ? found.join('; ') : 'in no segment'}`);
  }
  return lines.join('\n');
}
