import { parseArgs } from 'node:util';
import { ConfigFileError, loadConfigFile } from '../../config/load-file.js';
import { ResilienceConfigResolver } from '../../config/resolve.js';
import { Downstream } from './downstream.js';
import { type SimulationResult, simulate } from './replay.js';
import { columnNames, formatComparison } from './report.js';
import { readTrace } from './trace-file.js';

/** `nest-resilience simulate`: exit 0, or 2 with the reason on stderr. */
export async function runSimulateCommand(args: string[]): Promise<number> {
  let options: { trace: string; configs: string[]; service?: string; html?: string };
  try {
    const { values } = parseArgs({
      args,
      options: {
        trace: { type: 'string' },
        config: { type: 'string', multiple: true },
        service: { type: 'string' },
        html: { type: 'string' },
      },
    });
    if (!values.trace) throw new Error('--trace <file> is required');
    if (!values.config?.length) throw new Error('at least one --config <file> is required');
    options = { trace: values.trace, configs: values.config, service: values.service, html: values.html };
  } catch (error) {
    process.stderr.write(`nest-resilience simulate: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const trace = readTrace(options.trace, options.service);
    const downstream = new Downstream(trace);
    const results: SimulationResult[] = [];
    for (const file of options.configs) {
      const validated = ResilienceConfigResolver.validate(await loadConfigFile(file));
      if (!validated.ok) {
        const problems = validated.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
        throw new ConfigFileError(`${file} is not a valid configuration:\n${problems}`);
      }
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
    return 0;
  } catch (error) {
    process.stderr.write(`nest-resilience simulate: ${(error as Error).message}\n`);
    return 2;
  }
}
