/** Time formatting shared by the screens. Instants are ISO strings or epoch ms. */

export type Instant = string | number | Date | null | undefined;

function toDate(value: Instant): Date | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone?: string): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(key, format);
  }
  return format;
}

/** `2026-11-24 01:59:30` in the browser's zone (or `timeZone`); `—` for none. */
export function formatTime(value: Instant, timeZone?: string): string {
  const date = toDate(value);
  if (!date) return '—';
  try {
    return formatter(timeZone).format(date).replace(',', '');
  } catch {
    return date.toISOString();
  }
}

/** `in 5 s`, `3 min ago`, `2 h ago`, `in 4 d`, relative to `now`. */
export function formatRelative(value: Instant, now: number = Date.now()): string {
  const date = toDate(value);
  if (!date) return '—';
  const delta = date.getTime() - now;
  const text = formatDuration(Math.abs(delta), true);
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

/** `850 ms`, `12 s`, `4 min 10 s`, `3 h 5 min`, `2 d 4 h`; coarse drops the second unit. */
export function formatDuration(ms: number | null | undefined, coarse = false): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ];
  for (let i = 0; i < units.length; i++) {
    const [size, name] = units[i];
    if (s >= size) {
      const whole = Math.floor(s / size);
      const rest = i + 1 < units.length ? Math.floor((s % size) / units[i + 1][0]) : 0;
      return coarse || rest === 0
        ? `${whole} ${name}`
        : `${whole} ${name} ${rest} ${units[i + 1][1]}`;
    }
  }
  return `${s} s`;
}

/** The browser's own IANA zone (`Europe/Berlin`). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Every IANA zone the browser knows, for a datalist. */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const zones = intl.supportedValuesOf?.('timeZone') ?? [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}
