import { parseArgs } from 'node:util';
import { toSeconds } from '../../core/duration.js';
import { analyze, formatAdvice, formatReports } from './analyze.js';
import { patternAdvice } from './pattern-rules.js';
import { PrometheusClient } from './prometheus.js';
import { compareRollouts, formatRollouts } from './rollout.js';

/** `nest-resilience advise --prometheus <url> [--since 14d] [--service s] [--prefix p] [--format json]`. */
export async function runAdviseCommand(args: string[]): Promise<number> {
  let options: { prometheus: string; sinceSeconds: number; service?: string; format: string; prefix: string };
  try {
    const { values } = parseArgs({
      args,
      options: {
        prometheus: { type: 'string' },
        since: { type: 'string', default: '14d' },
        service: { type: 'string' },
        format: { type: 'string', default: 'text' },
        prefix: { type: 'string', default: '' },
      },
    });
    if (!values.prometheus) throw new Error('--prometheus <url> is required');
    if (values.format !== 'text' && values.format !== 'json')
      throw new Error(`--format must be text or json, got ${values.format}`);
    options = {
      prometheus: values.prometheus,
      sinceSeconds: toSeconds(values.since as string, '--since'),
      service: values.service,
      format: values.format,
      prefix: values.prefix as string,
    };
  } catch (error) {
    process.stderr.write(`nest-resilience advise: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const end = Math.floor(Date.now() / 1000);
    const prometheus = new PrometheusClient(options.prometheus, options.prefix);
    const window = { start: end - options.sinceSeconds, end };
    const reports = await analyze(prometheus, window, options.service);
    const patterns = await patternAdvice(prometheus, window, options.service);
    const rollouts = await compareRollouts(prometheus, window, options.service);
    const days = Math.round(options.sinceSeconds / 86_400);
    const text = [formatReports(reports, days), ...patterns.flatMap(formatAdvice), ...formatRollouts(rollouts)].join(
      '\n',
    );
    const json = { services: reports, patterns, rollouts };
    process.stdout.write(`${options.format === 'json' ? JSON.stringify(json, null, 2) : text}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`nest-resilience advise: ${(error as Error).message}\n`);
    return 2;
  }
}
