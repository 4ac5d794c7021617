import type { LawInput, LimitChangeReason, LimitLaw } from './laws.js';
import { type CallSample, SampleWindow, type SampleWindowOptions, type WindowSample } from './sample-window.js';

/** A move of the limit, with why and what it was measured against. */
export interface LimitChange {
  readonly limit: number;
  readonly previous: number;
  readonly reason: LimitChangeReason;
  /** The latency of the window that moved it (ms), when latency did. */
  readonly rttMs?: number;
  /** The no-load latency it was measured against (ms). */
  readonly noLoadRttMs?: number;
}

/** How many calls may run at once. */
export interface ConcurrencyLimit {
  /** The limit in force, an integer. */
  readonly limit: number;
  /** Learns from a completed call; returns the change when the limit moved. */
  record(sample: CallSample): LimitChange | undefined;
  /** A call started with `inFlight` calls in flight (itself included). */
  started?(at: number, inFlight: number): void;
}

export class FixedLimit implements ConcurrencyLimit {
  constructor(readonly limit: number) {}

  record(): undefined {
    return undefined;
  }
}

export interface AdaptiveLimitSettings extends SampleWindowOptions {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** The algorithm's response to a window's latency. */
  law: LimitLaw;
  /** Slow start ends when latency exceeds the no-load latency by half this factor's excess. */
  rttTolerance: number;
  /** Multiplies the limit on a window with overload answers or timeouts. */
  backoffRatio: number;
  /** Every this long (ms, +0-15% jitter) the no-load latency is measured again; 0 never. */
  probeIntervalMs: number;
  /** Calls a measurement of the no-load latency averages. */
  probeSamples: number;
  /** Jitter of the probe interval; injectable for deterministic tests. */
  random: () => number;
}

export type AdaptivePhase = 'probing' | 'slow_start' | 'steady';

/** The calls in flight while the no-load latency is measured at start (Envoy's min_concurrency). */
const START_PROBE_LIMIT = 3;
/** Consecutive latency cuts after which a limit that did not bring latency down re-measures. */
const DRIFT_WINDOWS = 3;

interface Probe {
  readonly startedAt: number;
  /** Gathers the calls that started after it began, at its concurrency. */
  readonly window: SampleWindow;
  /** Where the limit goes afterwards, and in which phase. */
  readonly restore: number;
  readonly then: AdaptivePhase;
  /** Set when latency did not follow a falling limit: the estimate before those cuts. */
  readonly beforeDrift?: number;
}

/**
 * An adaptive concurrency limit. What it learns from: the latency of successful calls,
 * measured against the dependency's no-load latency, and overload signals (timeouts, 503,
 * 429, rejections); other failures are ignored. Around the algorithm's law (AIMD, Vegas,
 * Gradient2) it adds what makes one work at any scale:
 * - the no-load latency is measured at a reduced concurrency (Envoy's minRTT): at start (3
 *   calls at a time, so a capacity under `initialLimit` is still seen unloaded), every
 *   `probeInterval` (half the limit), and at once when a falling limit did not bring
 *   latency down (the dependency got slower for good) or latency fell well under it (faster);
 * - slow start: the limit doubles per window until latency rises or overload shows, so a
 *   capacity of 1,000 is found in seconds from an initialLimit of 20;
 * - only latency growth that noise cannot explain counts (two standard errors);
 * - overload answers multiply the limit by `backoffRatio`, in every algorithm.
 */
export class AdaptiveLimit implements ConcurrencyLimit {
  private estimate: number;
  private current: number;
  private noLoad = Number.NaN;
  /** Standard error of the no-load latency's measurement, ms. */
  private noLoadError = 0;
  private phase: AdaptivePhase = 'slow_start';
  private probe?: Probe;
  private nextProbeAt = Number.POSITIVE_INFINITY;
  private readonly window: SampleWindow;
  private readonly probeWindow: SampleWindow;
  private readonly startWindow: SampleWindow;
  private readonly probeMaxMs: number;
  /** The estimate and the latency over the no-load one when a run of latency cuts began, and its length. */
  private cutRun?: { estimate: number; excessMs: number; windows: number };
  private began = false;
  private found = false;

  constructor(private readonly settings: AdaptiveLimitSettings) {
    this.estimate = settings.initialLimit;
    this.current = settings.initialLimit;
    this.window = new SampleWindow(settings);
    this.probeWindow = new SampleWindow({ minWindowMs: 0, maxWindowMs: 0, minSamples: settings.probeSamples });
    // The start's measurement at 3 calls at a time takes probeSamples / 3 round trips; half
    // of them will do (the next measurements refine it), the limit is pinned meanwhile.
    this.startWindow = new SampleWindow({
      minWindowMs: 0,
      maxWindowMs: 0,
      minSamples: Math.ceil(settings.probeSamples / 2),
    });
    this.probeMaxMs = 5 * this.window.maxWindowMs;
  }

  get limit(): number {
    return this.current;
  }

  /** The no-load latency measured last (ms); NaN before the first measurement. */
  get noLoadRttMs(): number {
    return this.noLoad;
  }

  /**
   * True once the limit has been found: a window after slow start left it where it was or
   * let it grow. Before that it is still being learned (swings of the start are not news).
   */
  get learned(): boolean {
    return this.found;
  }

  /** 'probing' while the no-load latency is measured, 'slow_start' while doubling, else 'steady'. */
  get state(): AdaptivePhase {
    return this.phase;
  }

  started(at: number, inFlight: number): void {
    (this.probe ? this.probe.window : this.window).started(at, inFlight);
  }

  record(sample: CallSample): LimitChange | undefined {
    if (sample.outcome === 'ignored') {
      // A failure that says nothing of load is no sample: it only ends a call of its window.
      (this.probe ? this.probe.window : this.window).add(sample);
      return undefined;
    }
    if (!this.began) return this.start(sample);
    if (this.probe) return this.measure(this.probe, sample);
    const window = this.window.add(sample);
    return window ? this.adapt(window, sample.at) : undefined;
  }

  /** The first call: measure the no-load latency at a low concurrency before trusting any latency. */
  private start(sample: CallSample): LimitChange | undefined {
    this.began = true;
    const { initialLimit, minLimit } = this.settings;
    const low = Math.max(minLimit, Math.min(START_PROBE_LIMIT, initialLimit));
    if (low >= initialLimit) return this.record(sample);
    return this.beginProbe(sample.at, low, initialLimit, 'slow_start', undefined, this.startWindow);
  }

  private beginProbe(
    at: number,
    limit: number,
    restore: number,
    then: AdaptivePhase,
    beforeDrift?: number,
    window = this.probeWindow,
  ) {
    this.probe = { startedAt: at, window, restore, then, beforeDrift };
    this.phase = 'probing';
    window.restart(at, limit);
    return this.set(limit, 'probe', at);
  }

  /** A call during a probe: its window keeps the calls that started after it, at its concurrency. */
  private measure(probe: Probe, sample: CallSample): LimitChange | undefined {
    const measured = probe.window.add(sample);
    const timedOut = sample.at - probe.startedAt > Math.max(this.probeMaxMs, 10 * (this.noLoad || 0));
    if (!measured && !timedOut) return undefined;
    this.probe = undefined;
    const before = this.noLoad;
    const { rttMs, rttErrorMs } = measured ?? probe.window.summary();
    if (Number.isFinite(rttMs)) this.learnNoLoad(rttMs, rttErrorMs);
    let restore = probe.restore;
    // Latency did not follow the falling limit, and the dependency is now slower unloaded:
    // those cuts were for a latency that was not ours; undo them.
    if (probe.beforeDrift !== undefined && this.noLoad > before * this.settings.rttTolerance) {
      restore = Math.max(restore, probe.beforeDrift);
    }
    this.phase = probe.then;
    this.estimate = restore;
    this.cutRun = undefined;
    this.scheduleProbe(sample.at);
    this.window.restart(sample.at);
    return this.set(Math.floor(restore), 'probe_end', sample.at);
  }

  /**
   * A new measurement of the no-load latency. One that agrees with the last (within three
   * standard errors) refines it (weighted by precision: 20 calls of a latency spread +-50%
   * are 6% off alone); one that does not replaces it (the dependency changed).
   */
  private learnNoLoad(rttMs: number, errorMs: number): void {
    const agrees = Math.abs(rttMs - this.noLoad) <= 3 * Math.hypot(errorMs, this.noLoadError);
    if (!agrees || !(errorMs > 0 && this.noLoadError > 0)) {
      this.noLoad = rttMs;
      this.noLoadError = errorMs;
      return;
    }
    const weightOld = 1 / this.noLoadError ** 2;
    const weightNew = 1 / errorMs ** 2;
    this.noLoad = (this.noLoad * weightOld + rttMs * weightNew) / (weightOld + weightNew);
    this.noLoadError = 1 / Math.sqrt(weightOld + weightNew);
  }

  private scheduleProbe(at: number): void {
    const { probeIntervalMs, random } = this.settings;
    this.nextProbeAt = probeIntervalMs > 0 ? at + probeIntervalMs * (1 + 0.15 * random()) : Number.POSITIVE_INFINITY;
  }

  private adapt(measured: WindowSample, at: number): LimitChange | undefined {
    const { rttTolerance, backoffRatio, minLimit } = this.settings;
    if (Number.isNaN(this.noLoad) && Number.isFinite(measured.rttMs)) {
      // No measurement yet (an initialLimit at or under the start's probe): this one is unloaded.
      this.noLoad = measured.rttMs;
      this.noLoadError = measured.rttErrorMs;
      this.scheduleProbe(at);
    }
    if (measured.overloads + measured.timeouts > 0) {
      this.phase = 'steady';
      this.cutRun = undefined;
      return this.move(this.estimate * backoffRatio, measured.timeouts > 0 ? 'timeout' : 'overload', measured, at);
    }
    if (!Number.isFinite(measured.rttMs)) return undefined;
    if (measured.rttMs < this.noLoad * 0.9 && measured.rttMs < this.noLoad - this.noise(measured)) {
      // Well under the no-load latency: the dependency got faster; measure it properly.
      this.noLoad = measured.rttMs;
      this.nextProbeAt = at;
    }
    if (this.phase === 'steady' && at >= this.nextProbeAt) {
      return this.beginProbe(at, Math.max(minLimit, Math.floor(this.estimate / 2)), this.estimate, 'steady');
    }
    const loadedRttMs = this.loaded(measured);
    if (this.phase === 'slow_start') {
      // Doubling only while latency stays within the tolerance, and only once the window
      // filled the limit (a half-used limit says nothing of the next one). It ends when
      // latency rises beyond it and beyond noise; in between it waits for a clearer window.
      const queueFree = this.noLoad * rttTolerance;
      if (loadedRttMs <= queueFree) {
        if (measured.rttMs > queueFree || measured.inFlight < this.current) return undefined;
        return this.move(this.estimate * 2, 'slow_start', measured, at);
      }
      this.phase = 'steady';
    }
    const input: LawInput = {
      limit: this.current,
      estimate: this.estimate,
      window: measured,
      loadedRttMs,
      noLoadRttMs: this.noLoad,
    };
    const verdict = this.settings.law(input);
    if (verdict?.reason !== 'latency') {
      this.found = true;
      this.cutRun = undefined;
    }
    if (!verdict) return undefined;
    const before = this.estimate;
    const change = this.move(verdict.estimate, verdict.reason, measured, at);
    return this.watchDrift(verdict.reason, before, measured.rttMs, at) ?? change;
  }

  /** How far noise alone moves a window's average (two of its standard errors). */
  private noise(window: WindowSample): number {
    return 2 * window.rttErrorMs;
  }

  /**
   * The window's latency less what noise can explain: 20 calls of a dependency whose latency
   * spreads +-50% average 6% over its mean as often as not, which must not read as a queue.
   */
  private loaded(window: WindowSample): number {
    return Math.max(this.noLoad, window.rttMs - this.noise(window));
  }

  /**
   * Latency that stays up while the limit keeps falling is not queueing we cause: the
   * dependency got slower (or the limit sits at its floor, Envoy's trigger). Re-measure.
   */
  private watchDrift(reason: 'growth' | 'latency', before: number, rtt: number, at: number): LimitChange | undefined {
    if (reason !== 'latency') {
      this.cutRun = undefined;
      return undefined;
    }
    const excessMs = rtt - this.noLoad;
    const run = this.cutRun ?? { estimate: before, excessMs, windows: 0 };
    run.windows++;
    run.excessMs = Math.max(run.excessMs, excessMs);
    this.cutRun = run;
    // A queue we cause shrinks faster than the limit (its excess latency is in proportion to
    // the calls beyond capacity, gone at 60% of a limit that was at most 1.7x capacity); a
    // slower dependency's excess stays whatever the limit.
    const latencyStayed = excessMs >= 0.8 * run.excessMs && before <= 0.6 * run.estimate;
    const atFloor = this.current <= this.settings.minLimit;
    if (run.windows < DRIFT_WINDOWS || !(latencyStayed || atFloor)) return undefined;
    const probeLimit = Math.max(this.settings.minLimit, Math.floor(this.estimate / 2));
    return this.beginProbe(at, probeLimit, this.estimate, 'steady', run.estimate);
  }

  private move(estimate: number, reason: LimitChangeReason, window: WindowSample, at: number) {
    const { minLimit, maxLimit } = this.settings;
    this.estimate = Math.min(maxLimit, Math.max(minLimit, estimate));
    return this.set(Math.floor(this.estimate), reason, at, window.rttMs);
  }

  private set(limit: number, reason: LimitChangeReason, at: number, rttMs?: number): LimitChange | undefined {
    const previous = this.current;
    this.current = limit;
    if (limit === previous) return undefined;
    // Calls that started before the move tell of the old limit, not this one.
    if (!this.probe) this.window.restart(at);
    const measured = rttMs !== undefined && Number.isFinite(rttMs) ? { rttMs, noLoadRttMs: this.noLoad } : {};
    return { limit, previous, reason, ...measured };
  }
}
