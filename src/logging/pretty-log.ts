/**
 * FOREST_LOG_FORMAT=pretty: each pino JSON line as one human-readable line,
 * `2026-11-24T01:59:39.585Z INFO  [LeadershipService] node=vm-2856 elected leader key=value`,
 * an error's stack indented below it. A small formatter of our own rather than pino-pretty:
 * no extra dependencies (pino-pretty brings a dozen), and it runs in this thread, writing
 * synchronously like the JSON output, so nothing is lost or left pending when the process
 * exits (pino transports run in a worker thread).
 */

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '36' },
  30: { name: 'INFO', color: '32' },
  40: { name: 'WARN', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '35' },
};

/** Fields every line has, shown in the line's head rather than as key=value. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'context', 'node', 'pid', 'hostname', 'err']);

function paint(text: string, code: string, color: boolean): string {
  return color ? `\u001b[${code}m${text}\u001b[39m` : text;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s="]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** One pino JSON line (with or without its newline) as text ending in a newline. */
export function prettyLine(line: string, color = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (typeof record !== 'object' || record === null) return `${line.trimEnd()}\n`;
  const level = LEVELS[record.level as number] ?? { name: String(record.level), color: '39' };
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString() : '';
  const context = typeof record.context === 'string' ? `[${record.context}] ` : '';
  const msg = typeof record.msg === 'string' ? record.msg : '';
  const fields = Object.entries(record)
    .filter(([key]) => !HEAD_FIELDS.has(key))
    .map(([key, v]) => `${key}=${value(v)}`);
  let text =
    `${time} ${paint(level.name.padEnd(5), level.color, color)} ${paint(context, '1', color)}${msg}` +
    (fields.length > 0 ? ` ${paint(fields.join(' '), '90', color)}` : '');
  const err = record.err as { stack?: unknown; message?: unknown } | undefined;
  if (err && typeof err === 'object') {
    const detail = typeof err.stack === 'string' ? err.stack : value(err.message ?? err);
    text += `\n${detail
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}`;
  }
  return `${text.trimEnd()}\n`;
}
