import { parseArgs } from 'node:util';
import { ConfigFileError, loadConfigFile } from '../../config/load-file.js';
import { ResilienceConfigResolver } from '../../config/resolve.js';
import type { ResilienceConfig } from '../../config/types.js';
import { Downstream } from './downstream.js';
import { gateVerdict } from './gate.js';
import { type SimulationResult, simulate } from './replay.js';
import { columnNames, formatComparison } from './report.js';
import { readTrace } from './trace-file.js';

/** `nest-resilience simulate`: exit 0, or 2 with the reason on stderr. */
export async function runSimulateCommand(args: string[]): Promise<number> {
  let options: {
    trace: string;
    configs: string[];
    service?: string;
    html?: string;
    gate: boolean;
    thresholds: Record<string, number>;
  };
  try {
    const { values } = parseArgs({
      args,
      options: {
        trace: { type: 'string' },
        config: { type: 'string', multiple: true },
        service: { type: 'string' },
        html: { type: 'string' },
        gate: { type: 'boolean' },
        'max-failure-rate-increase': { type: 'string' },
        'max-rejection-rate-increase': { type: 'string' },
        'max-p99-increase': { type: 'string' },
      },
    });
    if (!values.trace) throw new Error('--trace <file> is required');
    if (!values.config?.length) throw new Error('at least one --config <file> is required');
    if (values.gate && values.config.length !== 2)
      throw new Error('--gate compares two configurations: --config <current> --config <proposed>');
    const thresholds: Record<string, number> = {};
    for (const [flag, key] of [
      ['max-failure-rate-increase', 'maxFailureRateIncrease'],
      ['max-rejection-rate-increase', 'maxRejectionRateIncrease'],
      ['max-p99-increase', 'maxP99Increase'],
    ] as const) {
      const raw = values[flag];
      if (raw === undefined) continue;
      const value = Number(raw);
      if (!(value >= 0)) throw new Error(`--${flag} must be a number >= 0, got ${JSON.stringify(raw)}`);
      thresholds[key] = value;
    }
    options = {
      trace: values.trace,
      configs: values.config,
      service: values.service,
      html: values.html,
      gate: values.gate === true,
      thresholds,
    };
  } catch (error) {
    process.stderr.write(`nest-resilience simulate: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const trace = readTrace(options.trace, options.service);
    const downstream = new Downstream(trace);
    const results: SimulationResult[] = [];
    const configs: ResilienceConfig[] = [];
    for (const file of options.configs) {
      const validated = ResilienceConfigResolver.validate(await loadConfigFile(file));
      if (!validated.ok) {
        const problems = validated.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
        throw new ConfigFileError(`${file} is not a valid configuration:\n${problems}`);
      }
      configs.push(validated.resolver.config);
      results.push(await simulate(trace, downstream, validated.resolver.config));
    }
    const names = columnNames(options.configs);
    const sampling = { lines: trace.lines, calls: trace.size };
    process.stdout.write(`${formatComparison(trace.service, names, results, sampling)}\n`);
    if (options.html) {
      const { writeHtmlReport } = await import('./html-report.js');
      writeHtmlReport(options.html, trace, names, results);
      process.stdout.write(`report: ${options.html}\n`);
    }
    if (!options.gate) return 0;
    const verdict = gateVerdict(results, configs[1] as ResilienceConfig, trace.service, options.thresholds);
    process.stdout.write(`${verdict.lines.join('\n')}\n`);
    return verdict.passed ? 0 : 1;
  } catch (error) {
    process.stderr.write(`nest-resilience simulate: ${(error as Error).message}\n`);
    return 2;
  }
}
