import { parseArgs } from 'node:util';
import { runAdviseCommand } from './advise/command.js';
import { runCheck } from './check.js';
import { runSimulateCommand } from './simulate/command.js';

const USAGE = `Usage: nest-resilience <command> [options]

Commands:
  check <file>   Validate a configuration (JSON or YAML, the shape of the \`resilience\` key).
                 Errors (exit 2): the schema and the module's own checks, each with its path.
                 Warnings: the guide's pre-deployment checks (exit 1 with --strict, else 0).
    --strict              exit 1 on warnings
    --format text|json    json for CI
    --explain <service>   each effective setting of the service, the layer that set it, its why note
    --environment <env>   the environment profile to apply (default: the file's, or NODE_ENV)

  simulate --trace <file> --config <a> [--config <b> ...] [--service <name>] [--html <report.html>]
                 Replays a recorded trace (the module's \`trace\` option) through the policies each
                 configuration gives the service, on a virtual clock; prints them side by side.
    --gate                two configurations, current then proposed: exit 1 when the proposed one is
                          worse by the rollout analysis thresholds (the proposal's rollout.analysis,
                          or the flags below), with the reasons; 0 when it is not (for CI)
    --max-failure-rate-increase <0..1>   --max-rejection-rate-increase <0..1>   --max-p99-increase <share>

  advise --prometheus <url> [--since 14d] [--service <name>] [--prefix <metrics.prefix>] [--format text|json]
                 Reads the module's metrics over the window and applies the guide's tuning rules:
                 each suggestion with its evidence, the rule, and a YAML patch.
`;

/** Runs the command line; returns the exit code (exported for tests, which also run the real binary). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'simulate') return runSimulateCommand(rest);
  if (command === 'advise') return runAdviseCommand(rest);
  if (command !== 'check') {
    process.stderr.write(`nest-resilience: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseCheckArgs>;
  try {
    parsed = parseCheckArgs(rest);
  } catch (error) {
    process.stderr.write(`nest-resilience check: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { code, output } = await runCheck(parsed);
  process.stdout.write(`${output}\n`);
  return code;
}

function parseCheckArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      strict: { type: 'boolean', default: false },
      format: { type: 'string', default: 'text' },
      explain: { type: 'string' },
      environment: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new Error(`expected one configuration file, got ${positionals.length}`);
  if (values.format !== 'text' && values.format !== 'json')
    throw new Error(`--format must be text or json, got ${values.format}`);
  return {
    file: positionals[0],
    strict: values.strict,
    format: values.format as 'text' | 'json',
    explain: values.explain,
    environment: values.environment,
  };
}
