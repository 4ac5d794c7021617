// What the page shows, updated in place, in the console page's script: the files of this folder are compiled for browsers
// (tsconfig.client.json) and served as one script, in the order of CLIENT_PARTS
// (page/console-script.ts), inside one function scope.

function renderBreaker(breaker: Breaker, now: number, since: number): void {
  const key = `breaker:${breaker.name}`;
  const path = `/breakers/${encodeURIComponent(breaker.name)}`;
  const tile = keep(byId('breakers'), key, () => {
    const node = el('article', {
      class: 'tile',
      'data-breaker': breaker.name,
      'aria-label': `breaker ${breaker.name}`,
    });
    const title = el('h3', {}, breaker.name);
    title.append(el('span', { class: 'state', role: 'status' }));
    const actions = el('div', { class: 'actions' });
    const ask = (verb: string, action: string, danger = false) =>
      button(
        verb,
        `${verb} ${breaker.name}`,
        async () => {
          if (await confirmAction(`${verb} the circuit breaker "${breaker.name}"?`)) {
            await act(`${verb} ${breaker.name}`, 'POST', `${path}/${action}`, {});
          }
        },
        danger,
      );
    actions.append(ask('Force open', 'force-open', true), ask('Force close', 'force-close'), ask('Reset', 'reset'));
    node.append(title, el('p', { class: 'meta kind' }), el('p', { class: 'meta figures' }), svgEl(), actions);
    return node;
  });
  tile.dataset.state = breaker.state;
  const label = breaker.forced
    ? 'FORCED OPEN'
    : breaker.disabled
      ? 'DISABLED'
      : breaker.state.replace('_', '-').toUpperCase();
  setText(tile.querySelector('.state'), label);
  setText(tile.querySelector('.kind'), `tier ${breaker.tier} · ${breaker.scope}`);
  const wait = breaker.state === 'open' && breaker.retryAfter ? ` · trial in ${breaker.retryAfter.toFixed(1)} s` : '';
  const { calls, failures, consecutiveFailures } = breaker.window;
  const windowFigures = calls > 0 ? `window ${failures}/${calls} failed · ` : '';
  setText(tile.querySelector('.figures'), `${windowFigures}${consecutiveFailures} failures in a row${wait}`);
  timeline(tile.querySelector('svg') as SVGSVGElement, breaker, now, since);
}

function recent(values: (number | null)[], count: number): number {
  return values.slice(-count).reduce<number>((sum, v) => sum + (v ?? 0), 0);
}

function renderLimiter(limiter: Limiter): void {
  const row = keep(byId('limiters'), `limiter:${limiter.name}`, () => {
    const node = el('tr', { 'data-limiter': limiter.name });
    const { rate, per, burst, strategy, mode, key } = limiter.policy;
    const policy = `${rate} per ${per} s + ${burst} burst · ${strategy} · ${mode} · key ${key}`;
    node.append(el('th', { scope: 'row' }, limiter.name), el('td', {}, policy), el('td'), el('td'), el('td'));
    const cell = el('td');
    cell.append(svgEl());
    node.append(cell);
    return node;
  });
  const cells = row.querySelectorAll('td');
  setText(cells[1], String(limiter.allowed));
  setText(cells[2], String(limiter.rejected));
  const rejected = recent(limiter.series.rejected, 30);
  const total = rejected + recent(limiter.series.allowed, 30);
  setText(cells[3], total ? `${((100 * rejected) / total).toFixed(1)}% (${rejected})` : 'no requests');
  sparkline(row.querySelector('svg') as SVGSVGElement, limiter.series.rejected, `${limiter.name} rejections`);
}

function renderBulkhead(bulkhead: Bulkhead, now: number): void {
  const tile = keep(byId('bulkheads'), `bulkhead:${bulkhead.name}`, () => {
    const node = el('article', {
      class: 'tile',
      'data-bulkhead': bulkhead.name,
      'aria-label': `bulkhead ${bulkhead.name}`,
    });
    node.append(
      el('h3', {}, bulkhead.name),
      el('p', { class: 'big' }),
      el('p', { class: 'meta figures' }),
      svgEl(),
      el('p', { class: 'meta moves' }),
    );
    return node;
  });
  const swing = bulkhead.swings.at(-1);
  tile.dataset.state = swing && swing.direction === 'down' && now - swing.at < 600_000 ? 'half_open' : 'closed';
  setText(tile.querySelector('.big'), `limit ${bulkhead.limit}`);
  const adaptive = bulkhead.adaptive;
  const learned = adaptive
    ? ` · adaptive, ${adaptive.phase.replace('_', ' ')}${adaptive.noLoadRttMs === null ? '' : ` · no-load ${adaptive.noLoadRttMs.toFixed(1)} ms`}`
    : ' · fixed';
  setText(tile.querySelector('.figures'), `${bulkhead.inFlight} in flight · ${bulkhead.queued} queued${learned}`);
  sparkline(tile.querySelector('svg') as SVGSVGElement, bulkhead.series, `${bulkhead.name} limit`);
  const move = bulkhead.changes.at(-1);
  const last = move
    ? `last move ${move.previous} → ${move.limit} (${move.reason.replace('_', ' ')}) ${age((now - move.at) / 1000)} ago`
    : '';
  const swung = swing
    ? ` · ${swing.direction === 'down' ? 'fell' : 'rose'} ${swing.from} → ${swing.to} within ${Math.round(swing.withinMs / 1000)} s (${swing.reason}) ${age((now - swing.at) / 1000)} ago`
    : '';
  setText(tile.querySelector('.moves'), last + swung);
}

function age(seconds: number | null): string {
  if (seconds === null) return 'unknown';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  return seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`;
}

function renderQueue(queue: Queue): void {
  const path = `/dlq/${encodeURIComponent(queue.name)}`;
  const tile = keep(byId('queues'), `queue:${queue.name}`, () => {
    const node = el('article', { class: 'tile', 'data-queue': queue.name, 'aria-label': `queue ${queue.name}` });
    const replay = button('Replay…', `Replay letters of ${queue.name}`, async () => {
      const input = el('input', { type: 'number', min: '1', value: '100', id: 'replay-limit' }) as HTMLInputElement;
      const label = el('label', { for: 'replay-limit' }, 'Letters at most (10 a second)');
      label.append(input);
      if (await confirmAction(`Replay letters of "${queue.name}" through their methods?`, label)) {
        await act(`replay ${queue.name}`, 'POST', `${path}/replay`, { limit: Number(input.value), ratePerSecond: 10 });
      }
    });
    const purge = button(
      'Purge…',
      `Purge ${queue.name}`,
      async () => {
        const input = el('input', { type: 'text', id: 'purge-name', autocomplete: 'off' }) as HTMLInputElement;
        const label = el('label', { for: 'purge-name' }, `Type "${queue.name}" to delete every letter`);
        label.append(input);
        if (
          await confirmAction(
            `Purge "${queue.name}"? Letters cannot be recovered.`,
            label,
            () => input.value === queue.name,
          )
        ) {
          await act(`purge ${queue.name}`, 'DELETE', `${path}?confirm=${encodeURIComponent(queue.name)}`);
        }
      },
      true,
    );
    const actions = el('div', { class: 'actions' });
    actions.append(replay, purge);
    node.append(el('h3', {}, queue.name), el('p', { class: 'big' }), el('p', { class: 'meta' }), svgEl(), actions);
    return node;
  });
  tile.dataset.state = queue.alerting ? 'open' : 'closed';
  setText(tile.querySelector('.big'), queue.size === null ? '?' : `${queue.size} letters`);
  setText(
    tile.querySelector('.meta'),
    `oldest ${age(queue.oldestAge)}${queue.alerting ? ' · over its alert threshold' : ''}`,
  );
  sparkline(tile.querySelector('svg') as SVGSVGElement, queue.series, `${queue.name} size`);
}

function renderRollout(rollout: Rollout): void {
  const path = `/rollouts/${encodeURIComponent(rollout.service)}`;
  const row = keep(byId('rollouts'), `rollout:${rollout.service}`, () => {
    const node = el('tr', { 'data-rollout': rollout.service });
    const id = `share-${rollout.service}`;
    const input = el('input', { type: 'number', min: '0', max: '100', step: '1', id }) as HTMLInputElement;
    const cell = el('td');
    const set = button('Set', `Set the rollout share of ${rollout.service}`, async () => {
      const percent = Number(input.value);
      if (await confirmAction(`Send ${percent}% of ${rollout.service}'s calls to its rollout (this replica)?`)) {
        await act(`rollout ${rollout.service}`, 'POST', path, { percent });
      }
    });
    const clear = button('Clear', `Clear the live share of ${rollout.service}`, () =>
      act(`rollout ${rollout.service}`, 'POST', path, { percent: null }),
    );
    cell.append(el('label', { for: id, class: 'meta' }, 'percent '), input, set, clear);
    node.append(el('th', { scope: 'row' }, rollout.service), el('td'), el('td'), cell);
    return node;
  });
  const cells = row.querySelectorAll('td');
  setText(cells[0], `${rollout.effective}%`);
  const progress = rollout.progress;
  // A progressive rollout: where it is, and why (the last judgment).
  const why = progress?.reasons[0] ? `: ${progress.reasons.join('; ')}` : '';
  setText(
    cells[1],
    progress
      ? `${rollout.source}, step ${progress.step + 1}, ${progress.status.replace('_', ' ')}${why}`
      : rollout.source,
  );
}

function renderChaos(chaos: Status['chaos'], now: number): void {
  setText(
    byId('chaos-state'),
    chaos.enabled ? 'Chaos is on in this application (chaos.enabled).' : 'Chaos is off (chaos.enabled is not true).',
  );
  const running = new Set(chaos.experiments.map((e) => `chaos:${e.id}`));
  for (const [key, node] of made) {
    if (key.startsWith('chaos:') && !running.has(key)) {
      node.remove();
      made.delete(key);
    }
  }
  for (const experiment of chaos.experiments) {
    const row = keep(byId('chaos'), `chaos:${experiment.id}`, () => {
      const node = el('tr', { 'data-chaos': experiment.id });
      const what = experiment.error ?? latencyText(experiment.latency);
      const stop = button('Stop', `Stop chaos on ${experiment.service}`, () =>
        act(`stop chaos on ${experiment.service}`, 'DELETE', `/chaos/${encodeURIComponent(experiment.id)}`),
      );
      const cell = el('td');
      cell.append(stop);
      node.append(
        el('th', { scope: 'row' }, experiment.service + (experiment.arm ? ` (${experiment.arm})` : '')),
        el('td', {}, `${experiment.fault}${what ? ` ${what}` : ''}`),
        el('td', {}, `${Math.round(experiment.rate * 100)}%`),
        el('td', {}, scopeOf(experiment)),
        el('td'),
        el('td', {}, experiment.startedBy),
        cell,
      );
      return node;
    });
    setText(row.querySelectorAll('td')[3], `in ${age((Date.parse(experiment.endsAt) - now) / 1000)}`);
  }
}

/** '2 s', '0.05-2 s' (uniform), '~0.3 s, at most 3 s' (exponential), or '' for no latency. */
function latencyText(latency: Status['chaos']['experiments'][number]['latency']): string {
  if (latency === undefined) return '';
  if (typeof latency === 'number') return `${latency} s`;
  if ('mean' in latency) return `~${latency.mean} s${latency.max === undefined ? '' : `, at most ${latency.max} s`}`;
  return `${latency.min}-${latency.max} s`;
}

/** Where an experiment runs and which calls it hits: 'every replica · GET /orders/* · key u1'. */
function scopeOf(experiment: Status['chaos']['experiments'][number]): string {
  const parts = [experiment.scope === 'fleet' ? 'every replica' : 'this replica'];
  if (experiment.route) parts.push(experiment.route);
  if (experiment.key) parts.push(`key ${experiment.key}`);
  if (experiment.when) parts.push('a predicate');
  return parts.join(' · ');
}

function empty(container: HTMLElement, what: string, count: number): void {
  const node = keep(container, `empty:${container.id}`, () => {
    if (container.tagName !== 'TBODY') return el('p', { class: 'empty' }, `No ${what}.`);
    const row = el('tr', { class: 'empty' });
    const columns = container.closest('table')?.querySelectorAll('thead th').length ?? 6;
    row.append(el('td', { colspan: String(columns) }, `No ${what}.`));
    return row;
  });
  node.hidden = count > 0;
}

function render(status: Status): void {
  empty(byId('breakers'), 'circuit breakers yet', status.breakers.length);
  for (const breaker of status.breakers) renderBreaker(breaker, status.at, status.since);
  empty(byId('limiters'), 'rate limiters yet', status.limiters.length);
  for (const limiter of status.limiters) renderLimiter(limiter);
  empty(byId('bulkheads'), 'bulkheads', status.bulkheads.length);
  for (const bulkhead of status.bulkheads) renderBulkhead(bulkhead, status.at);
  empty(byId('queues'), 'dead-letter queues', status.queues.length);
  for (const queue of status.queues) renderQueue(queue);
  empty(byId('rollouts'), 'rollouts configured', status.rollouts.length);
  for (const rollout of status.rollouts) renderRollout(rollout);
  empty(byId('chaos'), 'chaos experiments running', status.chaos.experiments.length);
  renderChaos(status.chaos, Date.now());
  renderConfig(status.config);
  empty(byId('patterns'), 'timeouts, fallbacks, hedges or coalesced calls yet', status.patterns.length);
  for (const tally of status.patterns) renderTally(tally);
}

/** A service's outcomes of one pattern: 'started 12 · won 3 · budget_exhausted 1'. */
function renderTally(tally: Status['patterns'][number]): void {
  const row = keep(byId('patterns'), `pattern:${tally.service}:${tally.pattern}`, () => {
    const node = el('tr', { 'data-pattern': `${tally.service}:${tally.pattern}` });
    node.append(el('th', { scope: 'row' }, tally.service), el('td', {}, tally.pattern), el('td'));
    return node;
  });
  const text = Object.entries(tally.counts)
    .map(([outcome, count]) => `${outcome} ${count}`)
    .join(' · ');
  setText(row.querySelectorAll('td')[1], text);
}

/** 'Configuration version 3 · last reload: refused 12:04:05 (admin API): retry.maxAttempts: ...'. */
function renderConfig(config: Status['config']): void {
  const last = config.recent[0];
  const problem = last?.issues[0];
  const lastText = last
    ? ` · last reload: ${last.result === 'invalid' ? 'refused' : last.result} ${new Date(last.at).toLocaleTimeString()} (${last.source})${problem ? `: ${problem.path}: ${problem.message}` : ''}`
    : '';
  const watching = config.watching ? ` · watching ${config.watching}` : '';
  const fleet = config.fleet?.current ? fleetText(config.fleet.replicas) : '';
  setText(byId('config-version'), `Configuration version ${config.version}${watching}${fleet}${lastText}`);
}

/** ' · fleet: 3 of 4 replicas on the current configuration (behind or refused: host:12:ab)'. */
function fleetText(replicas: { replica: string; result: string; lagging: boolean }[]): string {
  const behind = replicas.filter((r) => r.lagging);
  const names = behind.map((r) => `${r.replica}${r.result === 'invalid' ? ' refused' : ''}`).join(', ');
  return ` · fleet: ${replicas.length - behind.length} of ${replicas.length} replicas on the current configuration${names ? ` (behind or refused: ${names})` : ''}`;
}
