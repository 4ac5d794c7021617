/**
 * A retry budget, as gRPC's retry throttling: a bucket of `maxTokens`; each failed
 * attempt takes one token, each success gives back `tokenRatio`; retries are allowed
 * only while more than half the tokens remain. When most calls fail, retries stop,
 * which prevents the retry storms of the guide's "Excessive Retries".
 */
export class RetryBudget {
  private tokens: number;

  constructor(
    readonly maxTokens: number,
    readonly tokenRatio: number,
  ) {
    if (!(maxTokens > 0)) throw new RangeError(`budget.maxTokens must be > 0, got ${maxTokens}`);
    if (!(tokenRatio > 0)) throw new RangeError(`budget.tokenRatio must be > 0, got ${tokenRatio}`);
    this.tokens = maxTokens;
  }

  get available(): number {
    return this.tokens;
  }

  onSuccess(): void {
    this.tokens = Math.min(this.maxTokens, this.tokens + this.tokenRatio);
  }

  onFailure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  canRetry(): boolean {
    return this.tokens > this.maxTokens / 2;
  }
}
