import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArmWindow, analyseArms, ProgressiveRollout } from '../../../lib/core/index.js';

/** An arm window with `calls` calls, of which `failures` failed and `rejections` were turned away, each `ms` long. */
function arm(calls: number, failures = 0, rejections = 0, ms = 10): ArmWindow {
  const window = new ArmWindow();
  for (let i = 0; i < calls; i++)
    window.record(i < failures ? 'failure' : i < failures + rejections ? 'rejected' : 'success', ms);
  return window;
}

describe('analyseArms: the rollout arm against the stable one', () => {
  it('waits for minCalls on both arms', () => {
    assert.equal(analyseArms(arm(1000), arm(199)).verdict, 'wait');
    assert.equal(analyseArms(arm(199), arm(1000)).verdict, 'wait');
    assert.equal(analyseArms(arm(200), arm(200)).verdict, 'pass');
  });

  it('fails on a failure or rejection rate worse by more than the allowed points, at the boundary exactly', () => {
    // 2% vs 3%: one point worse is allowed (0.01), more is not.
    assert.equal(analyseArms(arm(1000, 20), arm(1000, 30)).verdict, 'pass');
    const worse = analyseArms(arm(1000, 20), arm(1000, 31));
    assert.equal(worse.verdict, 'fail');
    assert.match(
      worse.reasons[0] as string,
      /failure rate 3\.10% on the rollout arm, 2\.00% on the stable one \(more than 1\.00% worse\)/,
    );
    assert.equal(analyseArms(arm(1000), arm(1000, 0, 11)).verdict, 'fail');
    assert.equal(analyseArms(arm(1000), arm(1000, 0, 11), { maxRejectionRateIncrease: 0.02 }).verdict, 'pass');
    assert.equal(analyseArms(arm(1000, 50), arm(1000, 10)).verdict, 'pass', 'better is never worse');
  });

  it('fails on a p99 slower by more than the allowed share; rejections do not count as fast answers', () => {
    assert.equal(analyseArms(arm(500, 0, 0, 100), arm(500, 0, 0, 150)).verdict, 'pass', '+50% allowed');
    const slow = analyseArms(arm(500, 0, 0, 100), arm(500, 0, 0, 151));
    assert.equal(slow.verdict, 'fail');
    assert.match(
      slow.reasons.at(-1) as string,
      /p99 151\.0 ms on the rollout arm, 100\.0 ms on the stable one \(more than 50\.00% slower\)/,
    );
  });
});

describe('ProgressiveRollout: step by step', () => {
  it('waits, advances with fresh counts, and promotes on reaching 100%', () => {
    const rollout = new ProgressiveRollout({ steps: [5, 50, 100], analysis: { minCalls: 10 } });
    assert.deepEqual(rollout.state, { step: 0, percent: 5, status: 'running', reasons: [] });
    assert.equal(rollout.judge(), 'waited');
    for (let i = 0; i < 10; i++) {
      rollout.record('stable', 'success', 1);
      rollout.record('rollout', 'success', 1);
    }
    assert.equal(rollout.judge(), 'advanced');
    assert.equal(rollout.state.percent, 50);
    assert.equal(rollout.judge(), 'waited', 'the next step counts afresh');
    for (let i = 0; i < 10; i++) {
      rollout.record('stable', 'success', 1);
      rollout.record('rollout', 'success', 1);
    }
    assert.equal(rollout.judge(), 'promoted');
    assert.deepEqual({ ...rollout.state, reasons: [] }, { step: 2, percent: 100, status: 'promoted', reasons: [] });
    rollout.record('rollout', 'failure', 1);
    assert.equal(rollout.judge(), 'promoted', 'a promoted rollout stays so');
  });

  it('rolls back to 0%, or holds its share, on a failed step', () => {
    const fail = (onFailure?: 'rollback' | 'hold') => {
      const rollout = new ProgressiveRollout({ steps: [10, 100], analysis: { minCalls: 10 }, onFailure });
      for (let i = 0; i < 10; i++) {
        rollout.record('stable', 'success', 1);
        rollout.record('rollout', i < 2 ? 'rejected' : 'success', 1);
      }
      return [rollout.judge(), rollout.state.percent, rollout.state.status];
    };
    assert.deepEqual(fail(), ['rolled_back', 0, 'rolled_back']);
    assert.deepEqual(fail('hold'), ['held', 10, 'held']);
  });

  it('refuses steps that do not rise or leave 0..100', () => {
    assert.throws(() => new ProgressiveRollout({ steps: [] }), /at least one/);
    assert.throws(() => new ProgressiveRollout({ steps: [5, 5] }), /steps must rise: steps\[1\]/);
    assert.throws(() => new ProgressiveRollout({ steps: [5, 101] }), /steps\[1\] must be a share from 0 to 100/);
  });
});
