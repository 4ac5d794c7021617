import { explainService, formatExplanation } from '../config/explain.js';
import { ConfigFileError, loadConfigFile } from '../config/load-file.js';
import { checkResolved } from '../config/pre-deployment-checks.js';
import { ResilienceConfigResolver } from '../config/resolve.js';
import type { ConfigIssue } from '../core/errors.js';

export interface CheckOptions {
  file: string;
  strict: boolean;
  format: 'text' | 'json';
  explain?: string;
  environment?: string;
}

/** Exit codes: 0 clean (or warnings without --strict), 1 warnings with --strict, 2 errors. */
export const EXIT = { clean: 0, warnings: 1, errors: 2 } as const;

/**
 * `nest-resilience check <file>`: the schema and the module's own checks (errors), then the
 * guide's pre-deployment checks (warnings), each with its path; with --explain, where each
 * setting of a service comes from. Returns the exit code and the text to print.
 */
export async function runCheck(options: CheckOptions): Promise<{ code: number; output: string }> {
  let raw: unknown;
  try {
    raw = await loadConfigFile(options.file);
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    return report(options, [{ path: options.file, message: error.message }], []);
  }
  if (options.environment !== undefined && raw && typeof raw === 'object') {
    raw = { ...raw, environment: options.environment };
  }
  // Exactly the app's validation (ResilienceSettings.create runs the same).
  const validated = ResilienceConfigResolver.validate(raw);
  if (!validated.ok) return report(options, validated.issues, []);
  const warnings = checkResolved(validated.resolver);
  const result = report(options, [], warnings);
  if (options.explain === undefined) return result;
  const explanation = explainService(validated.resolver.config, options.explain);
  if (options.format === 'json') {
    const body = JSON.parse(result.output);
    return { code: result.code, output: JSON.stringify({ ...body, explain: explanation }, replacer, 2) };
  }
  return { code: result.code, output: `${result.output}\n\n${formatExplanation(explanation)}` };
}

function report(options: CheckOptions, errors: ConfigIssue[], warnings: ConfigIssue[]) {
  const code = errors.length > 0 ? EXIT.errors : warnings.length > 0 && options.strict ? EXIT.warnings : EXIT.clean;
  if (options.format === 'json')
    return { code, output: JSON.stringify({ file: options.file, errors, warnings }, null, 2) };
  const lines = [
    ...errors.map((i) => `error   ${i.path ? `${i.path}: ` : ''}${i.message}`),
    ...warnings.map((i) => `warning ${i.path ? `${i.path}: ` : ''}${i.message}`),
  ];
  const summary =
    errors.length > 0
      ? `${options.file}: ${errors.length} error${errors.length === 1 ? '' : 's'}`
      : `${options.file}: valid${warnings.length ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'} (the guide's pre-deployment checks${options.strict ? '; --strict fails on them' : ''})` : ''}`;
  return { code, output: [...lines, summary].join('\n') };
}

/** Functions (isFailure, fallback...) cannot come from a file, but keep JSON honest if they do. */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'function' ? '[function]' : value;
}
