/**
 * Reads the configurations out of the guide's Python examples, so that presets are
 * checked against the guide's own text rather than against a copy of its numbers.
 */
export type PyValue = number | boolean | string | PyValue[] | { [key: string]: PyValue } | { lambda: string };

export function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Python code blocks of a markdown document, comments removed. */
export function pythonBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```python\n([\s\S]*?)```/g)].map((m) =>
    m[1]
      .split('\n')
      .map((line) => line.replace(/#[^'"\n]*$/, ''))
      .join('\n'),
  );
}

/** The text between the bracket at `open` and its match. */
function enclosed(text: string, open: number): string {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (pairs[c]) stack.push(pairs[c]);
    else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return text.slice(open + 1, i);
    }
  }
  throw new Error(`unbalanced bracket at ${open}`);
}

/** Splits at commas that are not inside brackets or strings. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

export function parseValue(source: string): PyValue {
  const text = source.trim();
  if (text.startsWith('lambda')) return { lambda: text };
  if (text === 'True' || text === 'False') return text === 'True';
  if (/^'.*'$/.test(text) || /^".*"$/.test(text)) return text.slice(1, -1);
  if (/^[\d.\s*+]+$/.test(text)) {
    return text
      .split('*')
      .map((factor) => Number(factor.trim()))
      .reduce((a, b) => a * b, 1);
  }
  if (text.startsWith('(')) return splitTopLevel(enclosed(text, 0)).map(parseValue);
  if (text.startsWith('{')) {
    const out: Record<string, PyValue> = {};
    for (const entry of splitTopLevel(enclosed(text, 0))) {
      const colon = entry.indexOf(':');
      out[camel(String(parseValue(entry.slice(0, colon))))] = parseValue(entry.slice(colon + 1));
    }
    return out;
  }
  if (/^\w+$/.test(text)) return text;
  throw new Error(`cannot read Python value: ${text}`);
}

export interface GuideConstruction {
  /** The variable (or dict key) it is bound to. */
  name: string;
  className: string;
  kwargs: Record<string, PyValue>;
}

/** Every `name = Class(...)` and `'name': Class(...)` of the given classes. */
export function constructions(markdown: string, classNames: string[]): GuideConstruction[] {
  const found: GuideConstruction[] = [];
  const pattern = new RegExp(`(?:(\\w+)\\s*=\\s*|'(\\w+)':\\s*)(${classNames.join('|')})\\(`, 'g');
  for (const block of pythonBlocks(markdown)) {
    for (const match of block.matchAll(pattern)) {
      const open = (match.index ?? 0) + match[0].length - 1;
      const kwargs: Record<string, PyValue> = {};
      for (const arg of splitTopLevel(enclosed(block, open))) {
        const eq = arg.indexOf('=');
        if (eq < 0) continue;
        kwargs[camel(arg.slice(0, eq).trim())] = parseValue(arg.slice(eq + 1));
      }
      found.push({ name: match[1] ?? match[2], className: match[3], kwargs });
    }
  }
  return found;
}

/** The dict literal assigned to `variable` in the guide (e.g. the tier table `configs`). */
export function dictLiteral(markdown: string, variable: string): PyValue {
  for (const block of pythonBlocks(markdown)) {
    const match = new RegExp(`${variable}\\s*=\\s*\\{`).exec(block);
    if (match) return parseValue(`{${enclosed(block, match.index + match[0].length - 1)}}`);
  }
  throw new Error(`no dict literal ${variable} in the guide`);
}
