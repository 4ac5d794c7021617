import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { errorFamilyOf } from './error-family.js';

/** One call as the trace file has it (one JSON line). Never arguments, never a raw key. */
export interface TraceLine {
  /** Epoch ms when the call started. */
  t: number;
  service: string;
  arm: 'stable' | 'rollout';
  /** The rate-limit key, hashed with the trace's salt (absent when the call had none). */
  key?: string;
  /** Milliseconds from start to settle (microsecond precision). */
  latency: number;
  outcome: 'ok' | 'error' | 'rejected';
  /** For an error: its family (ConnectionError, TimeoutError, HTTPError...), else its name. */
  error?: string;
  /** Times the method itself ran (retries included; 0 when a stage turned the call away first). */
  attempts: number;
  /** For a rejection: the stage that turned it away (rate_limited, circuit_open, bulkhead_rejected). */
  rejectedBy?: string;
  /** Calls this line stands for: 1 / sampleRate when the trace is sampled (absent: 1). */
  w?: number;
}

export interface TraceRecorderOptions {
  file: string;
  /** Share of calls recorded, 0 to 1. Default 1. */
  sampleRate?: number;
  /** Salt of the key hashes; default: random per process (hashes then match only within one run). */
  salt?: string;
  /** Lines are written every this many ms. Default 250. */
  flushMs?: number;
  /** Lines held at most while the disk is slow; beyond, lines are dropped and counted. Default 100,000. */
  maxPending?: number;
  /** Told once when lines start being dropped, and of a failed write. */
  onWarning?: (message: string) => void;
}

const OUTCOMES = ['ok', 'error', 'rejected'] as const;
const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * Appends one JSON line per sampled call to a file. The call path only stores numbers and
 * references in parallel arrays (no string, no hash, no I/O); lines are built, keys hashed
 * and the batch appended every `flushMs`, off the call path.
 */
export class TraceRecorder {
  readonly file: string;
  readonly sampleRate: number;
  private readonly salt: string;
  private readonly maxPending: number;
  private readonly onWarning?: (message: string) => void;
  /** Per call: start, latency, outcome, attempts, arm (numbers, flat). */
  private numbers: number[] = [];
  /** Per call: service, key, error, rejecting stage. */
  private refs: unknown[] = [];
  /** `"service":"<name>"` as JSON, per service name (built once). */
  private readonly serviceJson = new Map<string, string>();
  private readonly hashes = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private skip: number;
  /** Lines dropped because `maxPending` were already waiting. */
  dropped = 0;
  /** Lines written so far. */
  written = 0;

  constructor(options: TraceRecorderOptions) {
    const rate = options.sampleRate ?? 1;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`trace.sampleRate must be from 0 to 1, got ${rate}`);
    this.file = options.file;
    this.sampleRate = rate;
    this.salt = options.salt ?? randomBytes(16).toString('hex');
    this.maxPending = options.maxPending ?? 100_000;
    this.onWarning = options.onWarning;
    this.skip = this.nextGap();
    this.timer = setInterval(() => void this.flush(), options.flushMs ?? 250);
    this.timer.unref();
  }

  /**
   * Whether to record this call (decided once, at its start). Each call is recorded with
   * probability sampleRate, independently; drawn as geometric gaps between recorded calls
   * (the same process as one coin per call, with one random number per recorded call).
   */
  sample(): boolean {
    if (this.skip > 0) {
      this.skip--;
      return false;
    }
    this.skip = this.nextGap();
    return this.sampleRate > 0;
  }

  /** Calls to skip before the next recorded one. */
  private nextGap(): number {
    const p = this.sampleRate;
    if (p >= 1) return 0;
    if (p <= 0) return Number.POSITIVE_INFINITY;
    return Math.floor(Math.log(1 - Math.random()) / Math.log(1 - p));
  }

  /** Records one settled call; `startedAt` and `endedAt` from performance.now(). */
  record(
    service: string,
    rollout: boolean,
    key: string | undefined,
    startedAt: number,
    endedAt: number,
    outcome: 0 | 1 | 2,
    error: unknown,
    attempts: number,
    rejectedBy: string | undefined,
  ): void {
    if (this.refs.length >= this.maxPending * 4) {
      if (this.dropped++ === 0)
        this.onWarning?.(`trace: ${this.maxPending} lines waiting for the disk; dropping lines`);
      return;
    }
    this.numbers.push(startedAt, endedAt - startedAt, outcome, attempts, rollout ? 1 : 0);
    this.refs.push(service, key, error, rejectedBy);
  }

  /** Builds and appends the lines recorded so far. */
  flush(): Promise<void> {
    const text = this.drainLines();
    if (text === '') return this.writing;
    const count = this.written;
    this.writing = this.writing.then(() =>
      appendFile(this.file, text).catch((error: Error) => {
        this.onWarning?.(`trace: writing ${this.file} failed after ${count} lines: ${error.message}`);
      }),
    );
    return this.writing;
  }

  /** Stops the timer and writes what is left (synchronously: also safe in an exit handler). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    const text = this.drainLines();
    if (text !== '') {
      try {
        appendFileSync(this.file, text);
      } catch (error) {
        this.onWarning?.(`trace: writing ${this.file} failed: ${(error as Error).message}`);
      }
    }
  }

  /** The recorded calls as JSON lines (written by hand: JSON.stringify per line cost more than the call). */
  private drainLines(): string {
    const numbers = this.numbers;
    const refs = this.refs;
    const n = refs.length / 4;
    if (n === 0) return '';
    this.numbers = [];
    this.refs = [];
    const origin = performance.timeOrigin;
    // A sampled trace says what each line stands for: the simulator replays that many calls.
    const weight = this.sampleRate < 1 ? `,"w":${round3(1 / this.sampleRate)}` : '';
    let text = '';
    for (let i = 0; i < n; i++) {
      const at = i * 5;
      const outcome = numbers[at + 2];
      const service = refs[i * 4] as string;
      const key = refs[i * 4 + 1] as string | undefined;
      const stage = refs[i * 4 + 3] as string | undefined;
      let line = `{"t":${round3(origin + numbers[at])},${this.serviceField(service)},"arm":"${numbers[at + 4] ? 'rollout' : 'stable'}"`;
      if (key !== undefined) line += `,"key":"${this.hash(key)}"`;
      line += `,"latency":${round3(numbers[at + 1])},"outcome":"${OUTCOMES[outcome]}"`;
      if (outcome === 1) line += `,"error":${JSON.stringify(errorFamilyOf(refs[i * 4 + 2]))}`;
      line += `,"attempts":${numbers[at + 3]}`;
      if (stage !== undefined) line += `,"rejectedBy":${JSON.stringify(stage)}`;
      text += `${line}${weight}}\n`;
    }
    this.written += n;
    return text;
  }

  private serviceField(service: string): string {
    let field = this.serviceJson.get(service);
    if (field === undefined) {
      field = `"service":${JSON.stringify(service)}`;
      this.serviceJson.set(service, field);
    }
    return field;
  }

  private hash(key: string): string {
    let hashed = this.hashes.get(key);
    if (hashed === undefined) {
      hashed = createHash('sha256').update(this.salt).update(key).digest('hex').slice(0, 16);
      if (this.hashes.size >= 10_000) this.hashes.clear();
      this.hashes.set(key, hashed);
    }
    return hashed;
  }
}
