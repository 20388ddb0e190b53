// Allowed windows: when a session may load production. Pure logic on plain
// numbers (epoch ms), shared by the session, its courses and the client's
// validation. Wall-clock times are read in the windows' time zone with luxon,
// so overnight spans and DST changes come out right; the optional clock maps
// real time to a faster "virtual" time for rehearsals and tests.
import { DateTime, IANAZone } from 'luxon';

/** One weekly rule: on these days, open from `from` to `to` (local time; `to` before `from` runs overnight). */
export interface WindowRule {
  /** Days the window opens on: "mon-fri", "sat,sun", "daily". */
  days: string;
  /** "HH:MM", 00:00 to 23:59. */
  from: string;
  /** "HH:MM", 00:00 to 24:00. */
  to: string;
}

export interface WindowSpec {
  /** IANA time zone of the rules' wall-clock times, e.g. "Europe/Paris". */
  timezone: string;
  windows: WindowRule[];
}

/** For rehearsals and tests: virtual time runs `speed` times faster than real time, from `startAt`. */
export interface SessionClock {
  speed: number;
  /** Virtual time when the session starts (ISO 8601); default: the real start time. */
  startAt?: string;
}

export const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const DAY_MS = 86_400_000;
/** Periods are looked for this far ahead: every weekly rule recurs within it. */
const LOOKAHEAD_DAYS = 8;

const FULL_DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** Index (0 = Monday) of a day name: "mon", "monday", "tues"... */
function dayIndex(name: string): number {
  const n = name.trim();
  const i = n.length >= 3 ? FULL_DAY_NAMES.findIndex((full) => full.startsWith(n)) : -1;
  if (i < 0)
    throw new Error(
      `"${n}" is not a day; use mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, a list such as sat,sun, or daily`,
    );
  return i;
}

/** Luxon weekday numbers (1 = Monday) of a days expression; throws with the fix on a bad one. */
export function parseDays(days: string): Set<number> {
  const text = days.trim().toLowerCase();
  if (text === 'daily') return new Set([1, 2, 3, 4, 5, 6, 7]);
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b, ...rest] = part.split('-');
    if (rest.length) throw new Error(`"${part.trim()}" is not a day range; write it as first-last, e.g. mon-fri`);
    const first = dayIndex(a);
    const last = b === undefined ? first : dayIndex(b);
    // A range may wrap over the week's end: fri-mon is fri, sat, sun, mon.
    for (let i = first; ; i = (i + 1) % 7) {
      out.add(i + 1);
      if (i === last) break;
    }
  }
  return out;
}

/** Minutes after midnight of "HH:MM"; 24:00 only where `allow24`. Throws with the fix. */
export function parseTime(text: string, allow24: boolean): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[2]) > 59 || minutes > (allow24 ? 1440 : 1439)) {
    throw new Error(
      `"${text}" is not a time; use 24-hour "HH:MM", e.g. "19:00"${allow24 ? ' (or "24:00" for midnight at the end of the day)' : ''}`,
    );
  }
  return minutes;
}

/** Every problem of a window spec, each naming its field; empty when it is usable. */
export function windowSpecProblems(spec: WindowSpec, field = 'windows'): string[] {
  const problems: string[] = [];
  if (!IANAZone.isValidZone(spec.timezone)) {
    problems.push(`${field}.timezone: "${spec.timezone}" is not a known time zone; use an IANA name such as "Europe/Paris" or "UTC"`);
  }
  if (!spec.windows.length)
    problems.push(`${field}.windows: list at least one window, e.g. { "days": "mon-fri", "from": "19:00", "to": "07:00" }`);
  const parsed: { i: number; days: Set<number>; from: number; to: number }[] = [];
  spec.windows.forEach((w, i) => {
    const at = `${field}.windows[${i}]`;
    let days: Set<number> | undefined;
    let from: number | undefined;
    let to: number | undefined;
    try {
      days = parseDays(w.days);
    } catch (e) {
      problems.push(`${at}.days: ${(e as Error).message}`);
    }
    try {
      from = parseTime(w.from, false);
    } catch (e) {
      problems.push(`${at}.from: ${(e as Error).message}`);
    }
    try {
      to = parseTime(w.to, true);
    } catch (e) {
      problems.push(`${at}.to: ${(e as Error).message}`);
    }
    if (from !== undefined && to !== undefined && from === to) {
      problems.push(`${at}: "from" and "to" are both ${w.from}; for a whole day write "from": "00:00", "to": "24:00"`);
    }
    if (days && from !== undefined && to !== undefined && from !== to) parsed.push({ i, days, from, to });
  });
  // Two rules opening on the same day with overlapping hours are a typo, not a wish.
  const span = (r: (typeof parsed)[number]) => [r.from, r.to > r.from ? r.to : r.to + 1440];
  for (let a = 0; a < parsed.length; a++) {
    for (let b = a + 1; b < parsed.length; b++) {
      const shared = [...parsed[a].days].filter((d) => parsed[b].days.has(d));
      const [fa, ta] = span(parsed[a]);
      const [fb, tb] = span(parsed[b]);
      if (shared.length && fa < tb && fb < ta) {
        problems.push(
          `${field}.windows[${parsed[b].i}]: overlaps windows[${parsed[a].i}] on ${shared.map((d) => DAY_NAMES[d - 1]).join(', ')}; merge them into one window`,
        );
      }
    }
  }
  return problems;
}

interface CompiledRule {
  days: Set<number>;
  from: number;
  to: number;
}

/** An open period, [start, end) in epoch ms. */
export type Period = [number, number];

/**
 * What one spec's rules give, day by day, worked out once: a status query or a
 * course's count walks up to two weeks of days, and luxon's zone arithmetic
 * is what costs in a workflow task. Keyed by the day's start; a pure function
 * of the spec, so replay sees the same values.
 */
interface SpecDays {
  rules: CompiledRule[];
  /** A day's start → its periods and the next day's start. */
  days: Map<number, { periods: Period[]; next: number }>;
}
const specDays = new WeakMap<WindowSpec, SpecDays>();

function daysOf(spec: WindowSpec): SpecDays {
  let known = specDays.get(spec);
  if (!known) {
    known = {
      rules: spec.windows.map((w) => ({ days: parseDays(w.days), from: parseTime(w.from, false), to: parseTime(w.to, true) })),
      days: new Map(),
    };
    specDays.set(spec, known);
  }
  return known;
}

/** The periods of the rules that open on one day (some close the next day). */
function dayPeriods(known: SpecDays, dayStart: number, zone: string): { periods: Period[]; next: number } {
  const cached = known.days.get(dayStart);
  if (cached) return cached;
  const day = DateTime.fromMillis(dayStart, { zone });
  const periods: Period[] = [];
  for (const r of known.rules) {
    if (!r.days.has(day.weekday)) continue;
    // Wall-clock times: luxon moves a time that DST skips forward, so a spring night is an hour shorter.
    const start = day.set({ hour: Math.floor(r.from / 60), minute: r.from % 60 }).toMillis();
    const endDay = r.to > r.from ? day : day.plus({ days: 1 });
    const end = (r.to === 1440 ? endDay.plus({ days: 1 }) : endDay.set({ hour: Math.floor(r.to / 60), minute: r.to % 60 })).toMillis();
    periods.push([start, end]);
  }
  const entry = { periods, next: day.plus({ days: 1 }).toMillis() };
  known.days.set(dayStart, entry);
  return entry;
}

/** The open periods (merged where they touch or overlap) that meet [fromMs, toMs], in virtual time. */
export function openPeriods(spec: WindowSpec, fromMs: number, toMs: number): Period[] {
  const known = daysOf(spec);
  const raw: Period[] = [];
  // A window may have opened the day before (overnight), so start one day early.
  const firstDay = DateTime.fromMillis(fromMs, { zone: spec.timezone }).startOf('day').minus({ days: 1 }).toMillis();
  const lastDay = DateTime.fromMillis(toMs, { zone: spec.timezone }).startOf('day').toMillis();
  for (let day = firstDay; day <= lastDay;) {
    const { periods, next } = dayPeriods(known, day, spec.timezone);
    for (const [start, end] of periods) if (end > fromMs && start < toMs) raw.push([start, end]);
    day = next;
  }
  raw.sort((a, b) => a[0] - b[0]);
  const merged: Period[] = [];
  for (const p of raw) {
    const last = merged[merged.length - 1];
    if (last && p[0] <= last[1]) last[1] = Math.max(last[1], p[1]);
    else merged.push([...p]);
  }
  return merged;
}

/** A moment as wall-clock time in a zone, e.g. "Mon 2026-11-30 19:00 Europe/Paris". */
export function wallClock(ms: number, zone: string): string {
  return `${DateTime.fromMillis(ms, { zone }).toFormat('ccc yyyy-LL-dd HH:mm')} ${zone}`;
}

/** Where a moment stands, in real epoch ms. `closesAt` is null when the window never closes. */
export type WindowState = { open: true; openedAt: number; closesAt: number | null } | { open: false; opensAt: number; closesAt: number };

/**
 * The windows of one session on its clock. Everything it returns is in real
 * time (what timers and measured durations use); `local()` shows a real
 * moment as the wall-clock time an operator reads.
 */
export class WindowCalendar {
  private readonly virtualStart: number;

  constructor(
    readonly spec: WindowSpec | undefined,
    private readonly clock: SessionClock | undefined,
    private readonly realStart: number,
  ) {
    this.virtualStart = clock?.startAt ? Date.parse(clock.startAt) : realStart;
  }

  get speed(): number {
    return this.clock?.speed ?? 1;
  }
  get always(): boolean {
    return !this.spec;
  }

  toVirtual(real: number): number {
    return this.virtualStart + (real - this.realStart) * this.speed;
  }
  toReal(virtual: number): number {
    return this.realStart + (virtual - this.virtualStart) / this.speed;
  }

  /** The open periods, in real time, that meet [fromReal, toReal]. */
  periods(fromReal: number, toReal: number): Period[] {
    if (!this.spec) return [[-Infinity, Infinity]];
    return openPeriods(this.spec, this.toVirtual(fromReal), this.toVirtual(toReal)).map(([a, b]) => [this.toReal(a), this.toReal(b)]);
  }

  at(now: number): WindowState {
    if (!this.spec) return { open: true, openedAt: this.realStart, closesAt: null };
    const week = (LOOKAHEAD_DAYS * DAY_MS) / this.speed;
    const horizon = now + week;
    // From a week back: a window open now may have opened days ago (a weekend).
    const periods = this.periods(now - week, horizon);
    const current = periods.find(([a, b]) => a <= now && now < b);
    // A period running past the horizon never closes (a rule set that covers the whole week).
    if (current) return { open: true, openedAt: current[0], closesAt: current[1] >= horizon ? null : current[1] };
    const next = periods.find(([a]) => a > now);
    if (!next) throw new Error('no window opens within a week: the rules allow no time at all');
    return { open: false, opensAt: next[0], closesAt: next[1] };
  }

  /** The next moment the window opens or closes; null when it never will. */
  nextChange(now: number): number | null {
    const w = this.at(now);
    return w.open ? w.closesAt : w.opensAt;
  }

  /** When the next window opens: the current one's successor while open; null if it never closes. */
  nextOpening(now: number): number | null {
    const w = this.at(now);
    if (!w.open) return w.opensAt;
    if (w.closesAt === null) return null;
    // Periods are merged, so the moment one closes is closed.
    return (this.at(w.closesAt) as { opensAt: number }).opensAt;
  }

  /** The longest whole window in the coming week, in real ms (Infinity when always open). */
  longestWindowMs(now: number): number {
    if (!this.spec) return Infinity;
    const week = (LOOKAHEAD_DAYS * DAY_MS) / this.speed;
    const [from, horizon] = [now - week, now + week];
    const periods = this.periods(from, horizon);
    if (periods.length === 1 && periods[0][0] <= from && periods[0][1] >= horizon) return Infinity;
    // Only whole periods: each weekly rule recurs in full within the two weeks looked at.
    const whole = periods.filter(([a, b]) => a > from + DAY_MS / this.speed && b < horizon);
    return Math.max(...whole.map(([a, b]) => b - a));
  }

  /** Open time in [fromReal, toReal], in real ms. */
  openMsBetween(fromReal: number, toReal: number): number {
    if (toReal <= fromReal) return 0;
    return this.periods(fromReal, toReal).reduce((n, [a, b]) => n + Math.max(0, Math.min(b, toReal) - Math.max(a, fromReal)), 0);
  }

  /** The real moment when `openMs` of open time has passed after (or, negative, before) `fromReal`. */
  shiftByOpenTime(fromReal: number, openMs: number): number {
    if (!this.spec) return fromReal + openMs;
    const week = (7 * DAY_MS) / this.speed;
    let left = Math.abs(openMs);
    for (let step = 0; step < 520; step++) {
      // ten years at most
      const [lo, hi] =
        openMs >= 0 ? [fromReal + step * week, fromReal + (step + 1) * week] : [fromReal - (step + 1) * week, fromReal - step * week];
      const periods = this.periods(lo, hi)
        .map(([a, b]): Period => [Math.max(a, lo), Math.min(b, hi)])
        .filter(([a, b]) => b > a);
      if (openMs < 0) periods.reverse();
      for (const [a, b] of periods) {
        if (left <= b - a) return openMs >= 0 ? a + left : b - left;
        left -= b - a;
      }
    }
    return openMs >= 0 ? Infinity : -Infinity;
  }

  /** A real moment as the operator's wall-clock time, e.g. "Mon 2026-11-30 19:00 Europe/Paris". */
  local(real: number): string {
    return wallClock(this.toVirtual(real), this.spec?.timezone ?? 'UTC');
  }
}
