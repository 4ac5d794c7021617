import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorPredicate, httpStatusOf } from '../../lib/index.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });
const withStatus = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });

describe('error matchers', () => {
  it("resolve the guide's exception names to Node errors", () => {
    const connection = errorPredicate(['ConnectionError']);
    assert.ok(connection(withCode('ECONNREFUSED')));
    assert.ok(connection(withCode('ECONNRESET')));
    assert.ok(!connection(new Error('plain')));
    const timeout = errorPredicate(['TimeoutError']);
    assert.ok(timeout(withCode('ETIMEDOUT')));
    assert.ok(timeout(new DOMException('timed out', 'TimeoutError')));
    const http = errorPredicate(['HTTPError']);
    assert.ok(http(withStatus(502)));
    assert.ok(!http(withStatus(404)), 'a client error is not a dependency failure');
    assert.ok(errorPredicate(['ServiceUnavailableError'])({ response: { status: 503 } }));
    assert.ok(errorPredicate(['DeadlockError'])(withCode('40P01')));
    assert.ok(errorPredicate(['Exception'])('a thrown string'));
  });

  it('match classes by instanceof and other names by name, class chain or code', () => {
    class PaymentError extends Error {}
    class CardDeclined extends PaymentError {}
    assert.ok(errorPredicate([PaymentError])(new CardDeclined()));
    assert.ok(errorPredicate(['PaymentError'])(new CardDeclined()), 'parent class name');
    assert.ok(errorPredicate(['EPROTO'])(withCode('EPROTO')));
    assert.ok(!errorPredicate([TypeError])(new RangeError()));
  });

  it('take predicates, and treat no list as every error', () => {
    const big = errorPredicate([(e) => (e as { amount?: number }).amount === 7]);
    assert.ok(big({ amount: 7 }));
    assert.ok(errorPredicate(undefined)(new Error()));
    assert.ok(errorPredicate([])(new Error()));
  });

  it('read HTTP status from the usual places', () => {
    assert.equal(httpStatusOf({ statusCode: 429 }), 429);
    assert.equal(httpStatusOf({ getStatus: () => 503 }), 503);
    assert.equal(httpStatusOf({ status: 'x' }), undefined);
  });
});
