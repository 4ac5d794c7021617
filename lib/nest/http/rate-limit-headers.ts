import type { RateLimitVerdict } from '../../core/rate-limiter/types.js';

export type RateLimitHeaderStyle = 'ietf' | 'legacy' | 'both' | 'none';

/**
 * Response headers for the verdicts of a call. IETF (draft-ietf-httpapi-ratelimit-headers):
 * `RateLimit-Policy: "api";q=100;w=60` and `RateLimit: "api";r=42;t=30`, one item per
 * limiter. Legacy: X-RateLimit-Limit / -Remaining / -Reset of the tightest limiter.
 */
export function rateLimitHeaders(
  verdicts: readonly RateLimitVerdict[],
  style: RateLimitHeaderStyle,
): [string, string][] {
  if (verdicts.length === 0 || style === 'none') return [];
  const headers: [string, string][] = [];
  if (style === 'ietf' || style === 'both') {
    headers.push([
      'RateLimit-Policy',
      verdicts.map((v) => `"${v.limiter}";q=${v.limit};w=${Math.ceil(v.window)}`).join(', '),
    ]);
    headers.push([
      'RateLimit',
      verdicts.map((v) => `"${v.limiter}";r=${v.remaining};t=${Math.ceil(v.resetAfter)}`).join(', '),
    ]);
  }
  if (style === 'legacy' || style === 'both') {
    const tightest = verdicts.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    headers.push(['X-RateLimit-Limit', String(tightest.limit)]);
    headers.push(['X-RateLimit-Remaining', String(tightest.remaining)]);
    headers.push(['X-RateLimit-Reset', String(Math.ceil(tightest.resetAfter))]);
  }
  return headers;
}
