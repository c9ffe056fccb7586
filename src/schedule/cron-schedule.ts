import { CronExpressionParser, type CronFieldCollection } from 'cron-parser';
import { InvalidScheduleError } from './schedule.errors';

export { InvalidScheduleError } from './schedule.errors';

/** When a job runs: a cron expression read as wall-clock time in an IANA time zone. */
export interface ScheduleSpec {
  cron: string;
  timezone: string;
}

/** One fire time as a person reads it: `utc` ISO with Z, `local` wall time, `offset` like +01:00. */
export interface FireTimeView {
  utc: string;
  local: string;
  offset: string;
}

const MAX_CRON_LENGTH = 256;
const MAX_TIMEZONE_LENGTH = 64;

const SECOND_MS = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The range of a JavaScript Date, either side of the epoch. */
const MAX_INSTANT_MS = 8.64e15;

// ---------------------------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------------------------

/** True for any zone name the runtime's tz database knows (IANA names and their aliases, UTC). */
export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > MAX_TIMEZONE_LENGTH) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz }); // throws RangeError for an unknown zone
    return true;
  } catch {
    return false;
  }
}

/** From `at` (epoch ms) on, the zone is `after` ms ahead of UTC instead of `before`. */
interface OffsetTransition {
  at: number;
  before: number;
  after: number;
}

interface OffsetChunk {
  startOffset: number;
  transitions: OffsetTransition[];
}

// The UTC offset is read from Intl once per sample and cached per chunk of time, because an
// Intl call costs about a microsecond and nextAfter needs several offsets per call. Samples
// 3 h apart find every transition: no zone changes its offset twice within 3 hours.
const CHUNK_MS = 32 * DAY_MS;
const SAMPLE_MS = 3 * HOUR_MS;
// About 350 years per zone; a caller wandering further only costs re-measuring.
const MAX_CACHED_CHUNKS = 4096;

/** UTC offsets and offset transitions of one time zone, measured lazily and cached. */
class ZoneOffsets {
  private readonly chunks = new Map<number, OffsetChunk>();
  private readonly formatter: Intl.DateTimeFormat;

  constructor(timeZone: string) {
    this.formatter = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  }

  /** Offset from UTC in ms at the instant `ms`. */
  offsetAt(ms: number): number {
    const chunk = this.chunk(Math.floor(ms / CHUNK_MS));
    let offset = chunk.startOffset;
    for (const transition of chunk.transitions) if (transition.at <= ms) offset = transition.after;
    return offset;
  }

  /** The latest transition in (ms - withinMs, ms], if any. */
  transitionBefore(ms: number, withinMs: number): OffsetTransition | undefined {
    let latest: OffsetTransition | undefined;
    this.forEachTransition(ms - withinMs, ms, (transition) => (latest = transition));
    return latest;
  }

  /** The earliest transition in (fromMs, toMs], if any. */
  transitionBetween(fromMs: number, toMs: number): OffsetTransition | undefined {
    let earliest: OffsetTransition | undefined;
    this.forEachTransition(fromMs, toMs, (transition) => (earliest ??= transition));
    return earliest;
  }

  /** Calls `visit` for each transition in (fromMs, toMs], in time order. */
  private forEachTransition(
    fromMs: number,
    toMs: number,
    visit: (transition: OffsetTransition) => void,
  ): void {
    const last = Math.floor(toMs / CHUNK_MS);
    for (let index = Math.floor(fromMs / CHUNK_MS); index <= last; index++) {
      for (const transition of this.chunk(index).transitions) {
        if (transition.at > fromMs && transition.at <= toMs) visit(transition);
      }
    }
  }

  private chunk(index: number): OffsetChunk {
    let chunk = this.chunks.get(index);
    if (chunk === undefined) {
      if (this.chunks.size >= MAX_CACHED_CHUNKS) this.chunks.clear();
      chunk = this.measureChunk(index * CHUNK_MS);
      this.chunks.set(index, chunk);
    }
    return chunk;
  }

  /** Samples [start, start + CHUNK_MS] and pins each offset change to the millisecond. */
  private measureChunk(start: number): OffsetChunk {
    const startOffset = this.measureOffset(Math.max(start, -MAX_INSTANT_MS));
    const transitions: OffsetTransition[] = [];
    let previous = startOffset;
    for (let sample = start + SAMPLE_MS; sample <= start + CHUNK_MS; sample += SAMPLE_MS) {
      if (Math.abs(sample) > MAX_INSTANT_MS) break; // Intl cannot format beyond the Date range
      const offset = this.measureOffset(sample);
      if (offset !== previous) transitions.push(this.findTransition(sample - SAMPLE_MS, sample));
      previous = offset;
    }
    return { startOffset, transitions };
  }

  /** Binary search for the first ms in (lo, hi] whose offset differs from the one at lo. */
  private findTransition(lo: number, hi: number): OffsetTransition {
    const before = this.measureOffset(lo);
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.measureOffset(mid) === before) lo = mid;
      else hi = mid;
    }
    return { at: hi, before, after: this.measureOffset(hi) };
  }

  private measureOffset(ms: number): number {
    // 'longOffset' renders as e.g. "1/1/2026, GMT+01:00", or plain "GMT" for a zero offset.
    const text = this.formatter.format(ms);
    const match = /GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
    if (match === null) throw new Error(`cannot read a UTC offset from "${text}"`);
    if (match[1] === undefined) return 0;
    const size =
      Number(match[2]) * HOUR_MS + Number(match[3]) * 60_000 + Number(match[4] ?? 0) * SECOND_MS;
    return match[1] === '-' ? -size : size;
  }
}

const zoneOffsetsByName = new Map<string, ZoneOffsets>();
// Far more than the ~600 zone names; only differently-cased spellings could fill it.
const MAX_CACHED_ZONES = 2048;

function zoneOffsetsFor(timeZone: string): ZoneOffsets {
  let zone = zoneOffsetsByName.get(timeZone);
  if (zone === undefined) {
    if (!isValidTimeZone(timeZone)) throw unknownTimeZone(timeZone);
    if (zoneOffsetsByName.size >= MAX_CACHED_ZONES) zoneOffsetsByName.clear();
    zone = new ZoneOffsets(timeZone);
    zoneOffsetsByName.set(timeZone, zone);
  }
  return zone;
}

function unknownTimeZone(timeZone: string): InvalidScheduleError {
  return new InvalidScheduleError(
    'timezone',
    `unknown time zone "${timeZone}": use an IANA name such as Europe/Berlin or UTC`,
  );
}

function normalizeTimeZone(input: unknown): string {
  if (typeof input !== 'string') {
    throw new InvalidScheduleError('timezone', 'time zone must be a string such as Europe/Berlin');
  }
  const timeZone = input.trim();
  if (timeZone.length > MAX_TIMEZONE_LENGTH) {
    throw new InvalidScheduleError(
      'timezone',
      `time zone is too long (${timeZone.length} characters): at most ${MAX_TIMEZONE_LENGTH} are allowed`,
    );
  }
  if (!isValidTimeZone(timeZone)) throw unknownTimeZone(timeZone);
  // Intl matches names case-insensitively, so store its spelling of the same name; an alias
  // (Asia/Kolkata, US/Eastern) stays as written rather than becoming ICU's link target.
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === timeZone.toLowerCase() ? resolved : timeZone;
}

// ---------------------------------------------------------------------------------------------
// Cron syntax
// ---------------------------------------------------------------------------------------------

const FIELD_COUNT_HINT =
  'expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first';

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface FieldRule {
  name: string;
  min: number;
  max: number;
  /** Three-letter names, lower case; the first one stands for `min`. */
  aliases?: readonly string[];
  /** What the field accepts, for messages about a value that is not valid at all. */
  hint: string;
}

const STEP_HINTS = 'a range (1-5), a list (1,5), a step (*/15) or *';

/** Rules for the six fields, seconds first; a 5-field expression is read with second 0. */
const FIELD_RULES: readonly FieldRule[] = [
  { name: 'second', min: 0, max: 59, hint: `a number 0-59, ${STEP_HINTS}` },
  { name: 'minute', min: 0, max: 59, hint: `a number 0-59, ${STEP_HINTS}` },
  { name: 'hour', min: 0, max: 23, hint: `a number 0-23, ${STEP_HINTS}` },
  {
    name: 'day-of-month',
    min: 1,
    max: 31,
    hint: `a day 1-31, L for the last day, ${STEP_HINTS}`,
  },
  {
    name: 'month',
    min: 1,
    max: 12,
    aliases: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
    hint: `a month 1-12 or JAN-DEC, ${STEP_HINTS}`,
  },
  {
    name: 'day-of-week',
    min: 0,
    max: 7,
    aliases: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
    hint: `a weekday 0-7 (0 and 7 are Sunday) or SUN-SAT, 5L (last Friday), 5#3 (third Friday), ${STEP_HINTS}`,
  },
];
const DAY_OF_MONTH = 3;
const MONTH = 4;
const DAY_OF_WEEK = 5;

interface ParsedCron {
  /** The expression as stored: trimmed, single spaces, macros in lower case. */
  normalized: string;
  /** Six tokens, seconds first, macros expanded: what cron-parser is given. */
  fields: string[];
  hasSeconds: boolean;
}

function cronError(message: string): InvalidScheduleError {
  return new InvalidScheduleError('cron', message);
}

function parseCron(input: unknown): ParsedCron {
  if (typeof input !== 'string') {
    throw cronError(`cron expression must be a string: ${FIELD_COUNT_HINT}`);
  }
  if (input.length > MAX_CRON_LENGTH) {
    throw cronError(
      `cron expression is too long (${input.length} characters): at most ${MAX_CRON_LENGTH} are allowed`,
    );
  }
  const text = input.trim();
  if (text === '') throw cronError(`cron expression is empty: ${FIELD_COUNT_HINT}`);
  if (text.startsWith('@')) return parseMacro(text);

  const tokens = text.split(/\s+/);
  // cron-parser fills in missing leading fields by itself, so the count is ours to check.
  if (tokens.length !== 5 && tokens.length !== 6) {
    throw cronError(`${FIELD_COUNT_HINT}, got ${tokens.length}`);
  }
  const fields = tokens.length === 6 ? tokens : ['0', ...tokens];
  fields.forEach((token, index) => checkFieldToken(FIELD_RULES[index], token));
  checkWithCronParser(fields);
  return { normalized: tokens.join(' '), fields, hasSeconds: tokens.length === 6 };
}

function parseMacro(text: string): ParsedCron {
  const macro = text.toLowerCase();
  if (!Object.hasOwn(MACROS, macro)) {
    throw cronError(
      `${text} is not supported: use one of ${Object.keys(MACROS).join(', ')}, or cron fields (minute hour day-of-month month day-of-week)`,
    );
  }
  return { normalized: macro, fields: ['0', ...MACROS[macro].split(' ')], hasSeconds: false };
}

/** Checks one field ourselves, so that the common mistakes get a message naming the field. */
function checkFieldToken(rule: FieldRule, token: string): void {
  const isDayField = rule === FIELD_RULES[DAY_OF_MONTH] || rule === FIELD_RULES[DAY_OF_WEEK];
  if (token === '*' || (token === '?' && isDayField)) return;
  if (token === '?') {
    throw cronError(`${rule.name} does not take "?" (only the day fields do): use *`);
  }
  if (rule === FIELD_RULES[DAY_OF_WEEK] && token.includes('#')) return checkNthWeekday(rule, token);
  for (const item of token.split(',')) checkListItem(rule, token, item);
}

function checkListItem(rule: FieldRule, token: string, item: string): void {
  if (item === '') throw cronError(`${rule.name} "${token}" has an empty list item`);
  // cron-parser would pick hashed (H) values at random per process: nodes would disagree.
  if (item.startsWith('H')) {
    throw cronError(
      `${rule.name} "${item}": hashed values (H) are not supported, write the values out`,
    );
  }
  if (rule === FIELD_RULES[DAY_OF_MONTH] && item === 'L') return;
  if (rule === FIELD_RULES[DAY_OF_WEEK] && /^[0-7]L$/.test(item)) return;

  const [base, step, ...extra] = item.split('/');
  if (extra.length > 0) {
    throw cronError(`${rule.name} "${item}" has more than one step: use one /n`);
  }
  if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1)) {
    throw cronError(`${rule.name} step must be a whole number of at least 1, got "${item}"`);
  }
  if (base === '*') return;
  const bounds = base.split('-');
  if (bounds.length > 2) throw invalidItem(rule, item);
  const [low, high] = bounds.map((bound) => parseFieldValue(rule, bound, item));
  if (high !== undefined && low > high) {
    throw cronError(`${rule.name} range ${base} runs backwards: put the smaller value first`);
  }
}

function checkNthWeekday(rule: FieldRule, token: string): void {
  const match = /^([^#]+)#(\d+)$/.exec(token);
  if (
    match === null ||
    match[1].includes(',') ||
    match[1].includes('-') ||
    match[1].includes('/')
  ) {
    throw cronError(
      `${rule.name} "${token}": # stands alone as weekday#n, e.g. 5#3 for the third Friday of the month`,
    );
  }
  parseFieldValue(rule, match[1], token);
  const occurrence = Number(match[2]);
  if (occurrence < 1 || occurrence > 5) {
    throw cronError(`${rule.name} occurrence #${match[2]} is out of range 1-5`);
  }
}

function parseFieldValue(rule: FieldRule, text: string, item: string): number {
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else {
    const alias = rule.aliases?.indexOf(text.toLowerCase()) ?? -1;
    if (alias < 0) throw invalidItem(rule, item);
    value = rule.min + alias;
  }
  if (value < rule.min || value > rule.max) {
    throw cronError(`${rule.name} ${text} is out of range ${rule.min}-${rule.max}`);
  }
  return value;
}

function invalidItem(rule: FieldRule, item: string): InvalidScheduleError {
  return cronError(`${rule.name} "${item}" is not valid: use ${rule.hint}`);
}

/**
 * cron-parser has the last word on syntax. Our own checks catch the usual mistakes first;
 * anything else it rejects is traced to a field by parsing each field on its own.
 */
function checkWithCronParser(fields: string[]): void {
  const parserMessage = cronParserRejection(fields);
  if (parserMessage === undefined) return;
  for (let index = 0; index < fields.length; index++) {
    const alone = fields.map((token, other) => (other === index ? token : '*'));
    const message = cronParserRejection(alone);
    if (message === undefined) continue;
    const { name } = FIELD_RULES[index];
    const duplicate = /duplicate values found: (\S+)/.exec(message);
    if (duplicate !== null) {
      const sunday = name === 'day-of-week' ? ' (0 and 7 both mean Sunday)' : '';
      throw cronError(
        `${name} "${fields[index]}" selects ${duplicate[1]} twice${sunday}: list each value once`,
      );
    }
    throw cronError(`${name} "${fields[index]}" is not valid: ${message}`);
  }
  if (parserMessage.includes('day of month')) {
    const months = fields[MONTH].includes(',') ? 'months' : 'month';
    throw cronError(
      `day-of-month ${fields[DAY_OF_MONTH]} never occurs in ${months} ${fields[MONTH]}: pick a day that exists there, or L for the last day`,
    );
  }
  throw cronError(`cron expression is not valid: ${parserMessage}`);
}

function cronParserRejection(fields: string[]): string | undefined {
  try {
    CronExpressionParser.parse(fields.join(' '));
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Throws InvalidScheduleError; returns a normalized spec (trimmed, single spaces). */
export function validateSchedule(spec: ScheduleSpec): ScheduleSpec {
  return checkSchedule(spec).spec;
}

function checkSchedule(spec: ScheduleSpec): { spec: ScheduleSpec; cron: ParsedCron } {
  const cron = parseCron(spec.cron);
  const timezone = normalizeTimeZone(spec.timezone);
  return { spec: { cron: cron.normalized, timezone }, cron };
}

// ---------------------------------------------------------------------------------------------
// Fire times
// ---------------------------------------------------------------------------------------------

// The next match is searched this far ahead. The sparsest valid schedules (e.g. a fifth Monday
// in February) can be 28 years apart, so only a schedule that never fires again gets that far.
const SEARCH_YEARS = 100;
// Shifted and suppressed fire times (see nextAfter) lie within this long after a transition.
const DST_AFTERMATH_MS = DAY_MS;
// Each round of nextAfter moves past one offset transition; real zones have two a year.
const MAX_OFFSET_CHANGES = 4 * SEARCH_YEARS;

/** Table where index v holds the smallest allowed value >= v, or -1 if none is left. */
function nextAllowedTable(values: readonly number[], max: number): Int8Array {
  const allowed = new Set(values);
  const table = new Int8Array(max + 2).fill(-1);
  for (let value = max, next = -1; value >= 0; value--) {
    if (allowed.has(value)) next = value;
    table[value] = next;
  }
  return table;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leapYear = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leapYear ? 29 : MONTH_LENGTHS[month - 1];
}

/**
 * Matches wall-clock times (as "naive" epoch ms: the local date and time read as if UTC)
 * against the fields cron-parser expanded. Lookup tables make one search a few dozen steps.
 */
class WallClockMatcher {
  /** The hour field allows all 24 hours: the schedule then follows elapsed time across DST. */
  readonly everyHour: boolean;
  private readonly seconds: Int8Array;
  private readonly minutes: Int8Array;
  private readonly hours: Int8Array;
  private readonly months: Int8Array;
  private readonly daysOfMonth: boolean[] = new Array<boolean>(32).fill(false);
  private readonly lastDayOfMonth: boolean;
  private readonly weekdays: boolean[] = new Array<boolean>(7).fill(false);
  private readonly lastWeekdays: boolean[] = new Array<boolean>(7).fill(false);
  private readonly nthWeekday: number;
  private readonly dayOfMonthRestricted: boolean;
  private readonly dayOfWeekRestricted: boolean;

  constructor(fields: CronFieldCollection) {
    this.seconds = nextAllowedTable(fields.second.values, 59);
    this.minutes = nextAllowedTable(fields.minute.values, 59);
    this.hours = nextAllowedTable(fields.hour.values, 23);
    this.months = nextAllowedTable(fields.month.values, 12);
    this.everyHour = fields.hour.values.length === 24;
    for (const day of fields.dayOfMonth.values) {
      if (typeof day === 'number') this.daysOfMonth[day] = true;
    }
    this.lastDayOfMonth = fields.dayOfMonth.hasLastChar;
    // Values are numbers 0-7 (7 is Sunday again) or strings like '5L' (last Friday).
    for (const day of fields.dayOfWeek.values as readonly (number | string)[]) {
      if (typeof day === 'number') this.weekdays[day % 7] = true;
      else this.lastWeekdays[Number(day.charAt(0)) % 7] = true;
    }
    this.nthWeekday = fields.dayOfWeek.nthDay;
    this.dayOfMonthRestricted = !fields.dayOfMonth.isWildcard;
    this.dayOfWeekRestricted = !fields.dayOfWeek.isWildcard;
  }

  /** The first matching wall-clock time at or after `fromNaive` (a whole second). */
  nextMatch(fromNaive: number): number | undefined {
    const start = new Date(fromNaive);
    let year = start.getUTCFullYear();
    let month = start.getUTCMonth() + 1;
    let day = start.getUTCDate();
    let hour = start.getUTCHours();
    let minute = start.getUTCMinutes();
    let second = start.getUTCSeconds();
    const lastYear = year + SEARCH_YEARS;
    // Each step either accepts the current unit or moves to the start of the next one.
    while (year <= lastYear) {
      const nextMonth = this.months[month];
      if (nextMonth < 0) {
        year++;
        month = 1;
        day = 1;
        hour = minute = second = 0;
        continue;
      }
      if (nextMonth !== month) {
        month = nextMonth;
        day = 1;
        hour = minute = second = 0;
      }
      const monthLength = daysInMonth(year, month);
      if (day > monthLength) {
        month++;
        day = 1;
        hour = minute = second = 0;
        continue;
      }
      const nextHour = this.hours[hour];
      if (nextHour < 0 || !this.matchesDay(year, month, day, monthLength)) {
        day++;
        hour = minute = second = 0;
        continue;
      }
      if (nextHour !== hour) {
        hour = nextHour;
        minute = second = 0;
      }
      const nextMinute = this.minutes[minute];
      if (nextMinute < 0) {
        hour++;
        minute = second = 0;
        continue;
      }
      if (nextMinute !== minute) {
        minute = nextMinute;
        second = 0;
      }
      const nextSecond = this.seconds[second];
      if (nextSecond < 0) {
        minute++;
        second = 0;
        continue;
      }
      const match = Date.UTC(year, month - 1, day, hour, minute, nextSecond);
      return match <= MAX_INSTANT_MS ? match : undefined;
    }
    return undefined;
  }

  /** cron-parser's day rule (as Vixie cron): if both day fields are restricted, either may match. */
  private matchesDay(year: number, month: number, day: number, monthLength: number): boolean {
    const weekday = (((Math.floor(Date.UTC(year, month - 1, day) / DAY_MS) + 4) % 7) + 7) % 7;
    const dayOfMonthMatches = this.daysOfMonth[day] || (this.lastDayOfMonth && day === monthLength);
    const dayOfWeekMatches =
      (this.weekdays[weekday] &&
        (this.nthWeekday === 0 || Math.ceil(day / 7) === this.nthWeekday)) ||
      (this.lastWeekdays[weekday] && day > monthLength - 7);
    if (this.dayOfMonthRestricted && this.dayOfWeekRestricted) {
      return dayOfMonthMatches || dayOfWeekMatches;
    }
    return this.dayOfWeekRestricted ? dayOfWeekMatches : dayOfMonthMatches;
  }
}

function ceilToSecond(ms: number): number {
  return Math.ceil(ms / SECOND_MS) * SECOND_MS;
}

function checkInstant(name: string, ms: number): void {
  if (!(Math.abs(ms) <= MAX_INSTANT_MS)) {
    throw new RangeError(`${name} must be epoch ms within the range of a Date, got ${ms}`);
  }
}

/** Compiled schedule for fast repeated next-fire computation (the planner will call nextAfter millions of times). */
export class CronSchedule {
  private constructor(
    readonly spec: ScheduleSpec,
    readonly hasSeconds: boolean,
    private readonly matcher: WallClockMatcher,
    private readonly zone: ZoneOffsets,
  ) {}

  /** Throws InvalidScheduleError. */
  static compile(spec: ScheduleSpec): CronSchedule {
    const checked = checkSchedule(spec);
    const { fields } = CronExpressionParser.parse(checked.cron.fields.join(' '));
    return new CronSchedule(
      Object.freeze(checked.spec),
      checked.cron.hasSeconds,
      new WallClockMatcher(fields),
      zoneOffsetsFor(checked.spec.timezone),
    );
  }

  /**
   * First fire time strictly after `afterMs` (epoch ms), or undefined if none.
   *
   * Within a stretch of constant UTC offset, fire time = matching wall time - offset. Around
   * a DST transition (the rules cron-parser follows when it iterates, see docs/schedules.md):
   * - spring forward: unless the hour field is `*`, a wall time in the gap fires shifted
   *   forward by the gap (02:30 -> 03:30); with `*` it simply does not occur;
   * - fall back: unless the hour field is `*`, a repeated wall time fires only the first time
   *   (still on summer time); with `*` it fires both times, so hourly jobs stay hourly.
   * Computing this from the instant alone keeps the answer the same whatever `afterMs` is,
   * which cron-parser's reset()+next() does not (it repeats or skips those fire times).
   */
  nextAfter(afterMs: number): number | undefined {
    checkInstant('afterMs', afterMs);
    // Fire times are whole seconds, so "strictly after" is "at or after the next ms".
    let from = Math.floor(afterMs) + 1;
    for (let round = 0; round < MAX_OFFSET_CHANGES; round++) {
      const offset = this.zone.offsetAt(from);
      const transition = this.zone.transitionBefore(from, DST_AFTERMATH_MS);
      const regular = this.firstRegularFire(from, offset, transition);
      const shifted = this.firstShiftedFire(from, transition);
      const candidate =
        shifted !== undefined && (regular === undefined || shifted < regular) ? shifted : regular;
      if (candidate === undefined) return undefined;
      // The candidate assumed today's offset; if it changes first, search again from there.
      const change = this.zone.transitionBetween(from, candidate);
      if (change === undefined) return candidate;
      from = change.at;
    }
    return undefined;
  }

  /** Up to `count` fire times strictly after afterMs. */
  nextN(afterMs: number, count: number): number[] {
    const fires: number[] = [];
    for (let at = this.nextAfter(afterMs); at !== undefined && fires.length < count;) {
      fires.push(at);
      at = this.nextAfter(at);
    }
    return fires;
  }

  /** Fire times in (fromMs, toMs], at most `limit` — for misfire catch-up. */
  between(fromMs: number, toMs: number, limit: number): number[] {
    checkInstant('toMs', toMs);
    const fires: number[] = [];
    for (let at = this.nextAfter(fromMs); at !== undefined && at <= toMs && fires.length < limit;) {
      fires.push(at);
      at = this.nextAfter(at);
    }
    return fires;
  }

  /** First wall-clock match at or after `from` read with `offset`, minus a fall-back's repeats. */
  private firstRegularFire(
    from: number,
    offset: number,
    transition: OffsetTransition | undefined,
  ): number | undefined {
    let naive = this.matcher.nextMatch(ceilToSecond(from + offset));
    if (naive !== undefined && transition !== undefined && transition.before > transition.after) {
      // Wall times repeated by the fall-back already fired before the transition.
      const repeatsEnd = transition.at + (transition.before - transition.after);
      if (!this.matcher.everyHour && naive - offset < repeatsEnd) {
        naive = this.matcher.nextMatch(ceilToSecond(repeatsEnd + offset));
      }
    }
    return naive === undefined ? undefined : naive - offset;
  }

  /** After a spring-forward: the first skipped wall time, run shifted forward by the gap. */
  private firstShiftedFire(
    from: number,
    transition: OffsetTransition | undefined,
  ): number | undefined {
    if (
      transition === undefined ||
      transition.after <= transition.before ||
      this.matcher.everyHour
    ) {
      return undefined;
    }
    const gapStart = transition.at + transition.before;
    const gapEnd = transition.at + transition.after;
    const naive = this.matcher.nextMatch(
      Math.max(gapStart, ceilToSecond(from + transition.before)),
    );
    return naive !== undefined && naive < gapEnd ? naive - transition.before : undefined;
  }
}

function formatOffset(offsetMs: number): string {
  const size = Math.abs(offsetMs) / SECOND_MS;
  const pad = (n: number) => String(n).padStart(2, '0');
  const hhmm = `${pad(Math.floor(size / 3600))}:${pad(Math.floor(size / 60) % 60)}`;
  // Only historical local mean times have seconds in their offset (Berlin: +00:53:28).
  const ss = size % 60 === 0 ? '' : `:${pad(size % 60)}`;
  return `${offsetMs < 0 ? '-' : '+'}${hhmm}${ss}`;
}

/** Shows a fire time in UTC and as wall time in `timezone`; throws InvalidScheduleError for an unknown zone. */
export function describeFireTime(ms: number, timezone: string): FireTimeView {
  checkInstant('ms', ms);
  const offset = zoneOffsetsFor(timezone).offsetAt(ms);
  return {
    utc: new Date(ms).toISOString(),
    local: new Date(ms + offset).toISOString().slice(0, 19),
    offset: formatOffset(offset),
  };
}
