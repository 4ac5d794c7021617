import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { frame } from './file-frame.js';
import { type SegmentFiles, segmentNames, segmentPath, syncDir } from './file-recovery.js';
import type { RecordLocation, SegmentReader } from './file-segment-reader.js';

/**
 * Compaction's first half: copies the live letters into a fresh segment `target` and
 * makes it durable, directory entry included. Nothing old is touched yet: a crash here
 * leaves every letter in the old segments (and perhaps a second copy in the new one,
 * which recovery reads as the same letters). On failure the new file is removed.
 */
export async function copyLive<E extends RecordLocation>(
  files: SegmentFiles,
  target: number,
  live: Iterable<[string, E]>,
  reader: SegmentReader,
): Promise<{ moved: [string, E][]; bytes: number }> {
  const path = segmentPath(files, target);
  const moved: [string, E][] = [];
  const handle = await open(path, 'wx+');
  let offset = 0;
  try {
    for (const [id, entry] of live) {
      const record = frame(JSON.stringify({ o: 'a', id, d: await reader.letterAt(entry) }));
      const length = Buffer.byteLength(record);
      await handle.write(record, offset);
      moved.push([id, { ...entry, segment: target, offset, length }]);
      offset += length;
    }
    await handle.datasync();
  } catch (error) {
    await handle.close();
    rmSync(path, { force: true });
    throw error;
  }
  await handle.close();
  syncDir(files.dir);
  return { moved, bytes: offset };
}

/** Compaction's second half, once the copy is durable: removes the old segments. */
export function removeSegments(files: SegmentFiles, names: string[]): void {
  for (const name of names) rmSync(join(files.dir, name), { force: true });
  syncDir(files.dir);
}

/** Copies every segment into a dated folder beside the log; keeps the newest `kept`. */
export function snapshot(files: SegmentFiles, kept: number): string {
  const { dir, base } = files;
  const target = join(dir, `${base}-backup-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(target, { recursive: true });
  for (const name of segmentNames(files)) copyFileSync(join(dir, name), join(target, name));
  const backups = readdirSync(dir)
    .filter((n) => n.startsWith(`${base}-backup-`))
    .sort();
  for (const old of backups.slice(0, Math.max(0, backups.length - kept))) {
    rmSync(join(dir, old), { recursive: true, force: true });
  }
  return join(target, `${base}.log`);
}
