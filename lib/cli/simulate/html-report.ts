import { writeFileSync } from 'node:fs';
import type { CircuitState } from '../../core/circuit-breaker/types.js';
import type { SimulationResult } from './replay.js';
import type { Trace } from './trace-file.js';

const WIDTH = 900;
const BAND = 28;
const COLOR: Record<CircuitState, string> = { closed: '#2e7d32', half_open: '#f9a825', open: '#c62828' };

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/** x of epoch ms `t` in a chart from `from` to `to`. */
const xOf = (t: number, from: number, to: number) => ((t - from) / Math.max(1, to - from)) * WIDTH;

/** The recorded dependency: red where the calls that reached it failed (one strip per second). */
function healthStrip(trace: Trace, from: number, to: number): string {
  const seconds = new Map<number, [number, number]>();
  for (let i = 0; i < trace.size; i++) {
    if (trace.outcome[i] === 2) continue;
    const s = Math.floor(trace.t[i] / 1000);
    const [calls, failed] = seconds.get(s) ?? [0, 0];
    seconds.set(s, [calls + 1, failed + (trace.outcome[i] === 1 ? 1 : 0)]);
  }
  // Consecutive failing seconds drawn as one rectangle (no seams between them).
  const failing = [...seconds].filter(([, [calls, failed]]) => failed * 2 >= calls).map(([s]) => s);
  failing.sort((a, b) => a - b);
  const rects: string[] = [];
  for (let i = 0; i < failing.length; ) {
    let j = i;
    while (j + 1 < failing.length && failing[j + 1] === failing[j] + 1) j++;
    const x = xOf(failing[i] * 1000, from, to);
    const w = Math.max(1, xOf(failing[j] * 1000 + 1000, from, to) - x);
    rects.push(`<rect x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="${BAND}" fill="#c62828"/>`);
    i = j + 1;
  }
  return `<rect x="0" y="0" width="${WIDTH}" height="${BAND}" fill="#2e7d32"/>${rects.join('')}`;
}

/** A breaker's states as coloured bands over time. */
function stateBands(timeline: [number, CircuitState][], from: number, to: number): string {
  return timeline
    .map(([t, state], i) => {
      const end = i + 1 < timeline.length ? timeline[i + 1][0] : to;
      const x = xOf(t, from, to);
      const w = Math.max(0.5, xOf(end, from, to) - x);
      return `<rect class="state ${state}" x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="${BAND}" fill="${COLOR[state]}"><title>${state} from ${new Date(t).toISOString()}</title></rect>`;
    })
    .join('');
}

/** One self-contained page: the recorded dependency's health and each configuration's breaker over time. */
export function writeHtmlReport(path: string, trace: Trace, names: string[], results: SimulationResult[]): void {
  const from = trace.t[0];
  const to = trace.t[trace.size - 1] + 1;
  const rows = [
    { label: 'dependency (recorded)', svg: healthStrip(trace, from, to) },
    ...results.map((r, i) => ({
      label: `${names[i]}: ${r.opens} opens, ${r.flaps} flaps, ${r.sentWhileFailing} calls sent while failing`,
      svg: stateBands(r.timeline, from, to),
    })),
  ];
  const charts = rows
    .map(
      (row) =>
        `<figure><figcaption>${escapeHtml(row.label)}</figcaption><svg width="${WIDTH}" height="${BAND}" viewBox="0 0 ${WIDTH} ${BAND}" role="img">${row.svg}</svg></figure>`,
    )
    .join('\n');
  const seconds = ((to - from) / 1000).toFixed(1);
  const ticks = Array.from({ length: 7 }, (_, i) => {
    const x = (i / 6) * WIDTH;
    const anchor = i === 0 ? 'start' : i === 6 ? 'end' : 'middle';
    return `<line x1="${x}" y1="0" x2="${x}" y2="5" stroke="#555"/><text x="${x}" y="18" text-anchor="${anchor}" font-size="11">${(((to - from) / 1000) * (i / 6)).toFixed(0)} s</text>`;
  }).join('');
  const axis = `<svg class="axis" width="${WIDTH}" height="22" viewBox="0 0 ${WIDTH} 22">${ticks}</svg>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nest-resilience simulate: ${escapeHtml(trace.service)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}figure{margin:12px 0}figcaption{margin-bottom:4px}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}</style></head>
<body><h1>${escapeHtml(trace.service)}: ${trace.size} recorded calls over ${seconds} s</h1>
<p class="legend">breaker:<span style="background:${COLOR.closed}"></span>closed<span style="background:${COLOR.half_open}"></span>half-open<span style="background:${COLOR.open}"></span>open; dependency: red where most calls failed</p>
<div id="chart">${charts}${axis}</div></body></html>
`;
  writeFileSync(path, html);
}
