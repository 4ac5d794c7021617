import type { ResilienceConfig } from '../../config/types.js';
import { type ArmFigures, compareArms, type RolloutAnalysisOptions } from '../../core/rollout/arm-analysis.js';
import type { SimulationResult } from './replay.js';

/** A configuration's replay as the arms' comparison reads it: failed calls, calls turned away, added p99. */
function figuresOf(result: SimulationResult): ArmFigures {
  return {
    calls: result.calls,
    failures: result.failed,
    rejections: result.rateLimited + result.breakerRejections + result.bulkheadRejections,
    p99: result.addedLatencyP99,
  };
}

/**
 * `simulate --gate`: the proposed configuration (the second) against the current one (the
 * first) on the same recorded traffic, by the rules a progressive rollout judges its arms with
 * (core compareArms). Thresholds: the flags, else the proposal's `services.<service>.rollout.analysis`,
 * else the defaults. The p99 compared is the latency the patterns add (retries, waits, queues).
 */
export function gateVerdict(
  results: SimulationResult[],
  proposed: ResilienceConfig,
  service: string,
  flags: RolloutAnalysisOptions,
): { passed: boolean; lines: string[] } {
  const [current, candidate] = results as [SimulationResult, SimulationResult];
  const analysis = { ...proposed.services?.[service]?.rollout?.analysis, ...flags };
  const { verdict, reasons } = compareArms(figuresOf(current), figuresOf(candidate), analysis, [
    'the current configuration',
    'the proposed one',
  ]);
  const passed = verdict !== 'fail';
  return {
    passed,
    lines: [
      `gate: ${passed ? 'passed' : 'FAILED'}: the proposed configuration ${passed ? 'is not worse than' : 'is worse than'} the current one on ${current.calls} recorded calls`,
      ...reasons.map((reason) => `  ${reason}`),
    ],
  };
}
