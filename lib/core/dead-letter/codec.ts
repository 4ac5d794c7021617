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

  encode(letter: DeadLetterRecord): string {
    let text = JSON.stringify(letter);
    if (this.compression && Buffer.byteLength(text) > this.compressAbove) {
      const raw = Buffer.from(text);
      const packed = this.compression === 'brotli' ? brotliCompressSync(raw) : gzipSync(raw);
      text = `${this.compression === 'brotli' ? 'br' : 'gz'}:${packed.toString('base64')}`;
    }
    if (this.activeKeyId) text = this.seal(text, this.activeKeyId);
    return text;
  }

  decode(stored: string): DeadLetterRecord {
    let text = stored;
    if (text.startsWith('enc1:')) text = this.open(text);
    if (text.startsWith('gz:')) text = gunzipSync(Buffer.from(text.slice(3), 'base64')).toString();
    else if (text.startsWith('br:')) text = brotliDecompressSync(Buffer.from(text.slice(3), 'base64')).toString();
    return JSON.parse(text) as DeadLetterRecord;
  }

  private seal(text: string, keyId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(keyId) as Buffer, iv);
    cipher.setAAD(Buffer.from(keyId));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return `enc1:${keyId}:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${body.toString('base64')}`;
  }

  private open(sealed: string): string {
    const [, keyId, iv, tag, body] = sealed.split(':');
    const key = this.keys.get(keyId);
    if (!key) throw new DeadLetterIntegrityError(`letter sealed with unknown key "${keyId}"`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(keyId));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new DeadLetterIntegrityError('letter failed its integrity check (tampered with, or the wrong key)', {
        cause: error,
      });
    }
  }
}
