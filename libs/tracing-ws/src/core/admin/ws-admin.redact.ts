const REDACTED = '[redacted]';

/** Paths split once: `a.*.b` → `['a', '*', 'b']`. */
export function compileRedactPaths(paths: readonly string[]): ReadonlyArray<readonly string[]> {
  return paths.map((p) => p.split('.'));
}

/**
 * A payload as a live trace shows it: a copy with the values at `paths` replaced by
 * `[redacted]`, as JSON text of at most `maxChars`. Never throws (a payload that
 * cannot be serialised shows as `[unserialisable]`).
 */
export function redactPayload(data: unknown, paths: ReadonlyArray<readonly string[]>, maxChars: number): string {
  let copy: unknown;
  try {
    copy = data === undefined ? null : JSON.parse(JSON.stringify(data));
  } catch {
    return '[unserialisable]';
  }
  for (const path of paths) redactAt(copy, path, 0);
  const text = JSON.stringify(copy) ?? 'null';
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

function redactAt(node: unknown, path: readonly string[], i: number): void {
  if (typeof node !== 'object' || node === null) return;
  const record = node as Record<string, unknown>;
  const key = path[i]!;
  const keys = key === '*' ? Object.keys(record) : Object.prototype.hasOwnProperty.call(record, key) ? [key] : [];
  for (const k of keys) {
    if (i === path.length - 1) record[k] = REDACTED;
    else redactAt(record[k], path, i + 1);
  }
}
