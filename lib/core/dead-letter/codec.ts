import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { ResilienceError } from '../errors.js';
import type { DeadLetterRecord } from './types.js';

export interface CodecOptions {
  /** gzip or brotli above `compressAbove` bytes; true = gzip. */
  compression?: boolean | 'gzip' | 'brotli';
  /** Bytes; default 1024. */
  compressAbove?: number;
  /** AES-256-GCM keys by id (32 bytes each, base64 or hex); new letters use `activeKeyId`. */
  encryption?: { keys: Record<string, string | Buffer>; activeKeyId: string };
}

/** A stored letter failed its integrity check (tampered with, or a key that does not match). */
export class DeadLetterIntegrityError extends ResilienceError {}

function keyBytes(id: string, key: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(key)
    ? key
    : /^[0-9a-f]{64}$/i.test(key)
      ? Buffer.from(key, 'hex')
      : Buffer.from(key, 'base64');
  if (bytes.length !== 32)
    throw new RangeError(`encryption key "${id}" must be 32 bytes (base64 or hex), got ${bytes.length}`);
  return bytes;
}

/**
 * How a letter is stored: JSON, then compressed above a size (optional), then sealed
 * with AES-256-GCM under a key id (optional). Reading checks the seal, so a tampered
 * letter is detected, and letters written under an older key still read after rotation.
 */
export class LetterCodec {
  private readonly compression: false | 'gzip' | 'brotli';
  private readonly compressAbove: number;
  private readonly keys = new Map<string, Buffer>();
  private readonly activeKeyId?: string;

  constructor(options: CodecOptions = {}) {
    this.compression = options.compression === true ? 'gzip' : (options.compression ?? false);
    this.compressAbove = options.compressAbove ?? 1024;
    if (options.encryption) {
      for (const [id, key] of Object.entries(options.encryption.keys)) this.keys.set(id, keyBytes(id, key));
      if (!this.keys.has(options.encryption.activeKeyId)) {
        throw new RangeError(`encryption.activeKeyId "${options.encryption.activeKeyId}" is not among the keys`);
      }
      this.activeKeyId = options.encryption.activeKeyId;
    }
  }

  /** True when letters are sealed: then only sealed letters are accepted. */
  get encrypts(): boolean {
    return this.activeKeyId !== undefined;
  }

  encode(letter: DeadLetterRecord): string {
    let text = JSON.stringify(letter);
    if (this.compression && Buffer.byteLength(text) > this.compressAbove) {
      const raw = Buffer.from(text);
      const packed = this.compression === 'brotli' ? brotliCompressSync(raw) : gzipSync(raw);
      text = `${this.compression === 'brotli' ? 'br' : 'gz'}:${packed.toString('base64')}`;
    }
    if (this.activeKeyId) text = this.seal(text, this.activeKeyId, letter);
    return text;
  }

  /**
   * Reads a stored letter. `where` is where it was found (its id and queue): a sealed
   * letter binds both, so a body copied under another id or into another queue fails,
   * and with encryption on an unsealed letter is refused (it was not written by us).
   */
  decode(stored: string, where?: { id: string; queue?: string }): DeadLetterRecord {
    let text = stored;
    if (text.startsWith('enc2:') || text.startsWith('enc1:')) text = this.open(text, where);
    else if (this.encrypts) throw new DeadLetterIntegrityError('letter is not sealed, but this queue encrypts letters');
    if (text.startsWith('gz:')) text = gunzipSync(Buffer.from(text.slice(3), 'base64')).toString();
    else if (text.startsWith('br:')) text = brotliDecompressSync(Buffer.from(text.slice(3), 'base64')).toString();
    const letter = checkShape(JSON.parse(text));
    if (where && (letter.id !== where.id || (where.queue !== undefined && letter.queue !== where.queue))) {
      if (this.encrypts || stored.startsWith('enc')) {
        throw new DeadLetterIntegrityError(`letter ${letter.id} of queue "${letter.queue}" was found as ${where.id}`);
      }
    }
    return letter;
  }

  /** Authenticated data: the key id, the queue and the letter id, so a sealed body cannot move. */
  private static aad(keyId: string, queue: string, id: string): Buffer {
    return Buffer.from(JSON.stringify(['nest-resilience/dlq/2', keyId, queue, id]));
  }

  private seal(text: string, keyId: string, letter: DeadLetterRecord): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(keyId) as Buffer, iv);
    cipher.setAAD(LetterCodec.aad(keyId, letter.queue, letter.id));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    const bound = Buffer.from(JSON.stringify([letter.queue, letter.id])).toString('base64');
    return `enc2:${keyId}:${bound}:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${body.toString('base64')}`;
  }

  private open(sealed: string, where?: { id: string; queue?: string }): string {
    const parts = sealed.split(':');
    const keyId = parts[1] ?? '';
    let aad: Buffer;
    let rest: string[];
    if (parts[0] === 'enc2') {
      let queue: unknown;
      let id: unknown;
      try {
        [queue, id] = JSON.parse(Buffer.from(parts[2] ?? '', 'base64').toString()) as unknown[];
      } catch {
        throw new DeadLetterIntegrityError('sealed letter has an unreadable header');
      }
      if (typeof queue !== 'string' || typeof id !== 'string') {
        throw new DeadLetterIntegrityError('sealed letter has an unreadable header');
      }
      if (where && (id !== where.id || (where.queue !== undefined && queue !== where.queue))) {
        throw new DeadLetterIntegrityError(`letter sealed as ${id} of queue "${queue}" was found as ${where.id}`);
      }
      aad = LetterCodec.aad(keyId, queue, id);
      rest = parts.slice(3);
    } else {
      // Sealed by 0.1.0 without the id in the authenticated data: decode checks the id inside.
      aad = Buffer.from(keyId);
      rest = parts.slice(2);
    }
    const [iv, tag, body] = rest;
    const key = this.keys.get(keyId);
    if (!key) throw new DeadLetterIntegrityError(`letter sealed with unknown key "${keyId}"`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv ?? '', 'base64'));
      decipher.setAAD(aad);
      decipher.setAuthTag(Buffer.from(tag ?? '', 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body ?? '', 'base64')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new DeadLetterIntegrityError('letter failed its integrity check (tampered with, or the wrong key)', {
        cause: error,
      });
    }
  }
}

/** The fields every reader relies on; anything else in a stored letter is data. */
function checkShape(value: unknown): DeadLetterRecord {
  const l = value as Partial<DeadLetterRecord> | null;
  const ok =
    typeof l === 'object' &&
    l !== null &&
    typeof l.id === 'string' &&
    typeof l.queue === 'string' &&
    typeof l.source === 'object' &&
    l.source !== null &&
    typeof l.error === 'object' &&
    l.error !== null &&
    Array.isArray(l.history) &&
    typeof l.createdAt === 'number' &&
    typeof l.replays === 'number' &&
    (l.status === 'pending' || l.status === 'exhausted');
  if (!ok) throw new DeadLetterIntegrityError('stored letter does not have the shape of a dead letter');
  return l as DeadLetterRecord;
}
