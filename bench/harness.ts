/**
 * A small side-by-side harness. Each case runs its own loop of `n` operations, so no
 * harness call sits between operations and ratios compare the operations themselves.
 * Cases are interleaved round by round (so drift hits them alike) and the median of
 * the rounds is kept.
 */
export type Case = (n: number) => Promise<void> | void;

export interface Measured {
  name: string;
  nsPerOp: number;
}

export async function measure(
  cases: Record<string, Case>,
  { iterations = 200_000, rounds = 9, warmup = 2 } = {},
): Promise<Record<string, Measured>> {
  const samples: Record<string, number[]> = {};
  for (const name of Object.keys(cases)) samples[name] = [];
  for (let round = 0; round < warmup + rounds; round++) {
    for (const [name, run] of Object.entries(cases)) {
      // Collect first, so no case pays for the garbage of the one before it.
      (globalThis as { gc?: () => void }).gc?.();
      const started = process.hrtime.bigint();
      await run(iterations);
      const elapsed = Number(process.hrtime.bigint() - started);
      if (round >= warmup) samples[name].push(elapsed / iterations);
    }
  }
  const out: Record<string, Measured> = {};
  for (const [name, values] of Object.entries(samples)) out[name] = { name, nsPerOp: median(values) };
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface Check {
  /** What the issue asks, e.g. "closed success: ours / bare <= 1.3". */
  target: string;
  ratio: number;
  limit: number;
}

export function check(target: string, ours: Measured, baseline: Measured, limit: number): Check {
  return { target, ratio: ours.nsPerOp / baseline.nsPerOp, limit };
}

export function formatTable(title: string, results: Record<string, Measured>, checks: Check[]): string {
  const lines = [`### ${title}`, '', '| case | ns/op |', '|---|---:|'];
  for (const r of Object.values(results)) lines.push(`| ${r.name} | ${r.nsPerOp.toFixed(1)} |`);
  lines.push('', '| target | ratio | limit | met |', '|---|---:|---:|:---:|');
  for (const c of checks)
    lines.push(`| ${c.target} | ${c.ratio.toFixed(3)} | ${c.limit} | ${c.ratio <= c.limit ? 'yes' : 'NO'} |`);
  return lines.join('\n');
}

/** Operations per second of `concurrency` callers, each running `op` in a loop for `ms`. */
export async function throughput(op: () => Promise<unknown>, concurrency: number, ms: number): Promise<number> {
  let count = 0;
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await op();
        count++;
      }
    }),
  );
  return count / (ms / 1000);
}
