// The "sliding" vintage of seed 000: a schedule knows, each time it fires,
// which academic year it must archive now. Either a rule on the academic
// calendar ("the year that ended N years ago", named by a pattern) or an
// explicit list of dates and vintages. Pure: the session resolves it at fire
// time, `schedule describe` shows what the next fires would resolve to.
import { DateTime, IANAZone } from 'luxon';

export interface VintageRule {
  /** The vintage label from the academic year, e.g. "{yearStart}-{yearEnd}" gives "2024-2025". */
  pattern?: string;
  /** Academic years back from the current one: 1 is the last one that ended. */
  yearsBack?: number;
  /** The month (1-12) an academic year starts in; default 9 (September). */
  startMonth?: number;
  /** Instead of a pattern: from each date on (YYYY-MM-DD, in `timezone`), this vintage. */
  list?: { from: string; vintage: string }[];
  /** The category field that holds the label. */
  match: 'name' | 'idnumber';
  /** Look among this category's children only (several categories may share a name). */
  parentCategoryId?: number;
  /** Time zone in which dates and months are read. */
  timezone: string;
}

export const DEFAULT_START_MONTH = 9;

/** What is wrong with a rule, each naming the field; empty when it is usable. */
export function vintageRuleProblems(rule: VintageRule, field = 'vintageRule'): string[] {
  const problems: string[] = [];
  if (!IANAZone.isValidZone(rule.timezone))
    problems.push(`${field}.timezone: "${rule.timezone}" is not an IANA time zone; use e.g. "Europe/Paris"`);
  if ((rule.pattern === undefined) === (rule.list === undefined)) {
    problems.push(
      `${field}: give either a pattern (e.g. "{yearStart}-{yearEnd}" with yearsBack) or an explicit list of { from, vintage }, not ${rule.pattern === undefined ? 'neither' : 'both'}`,
    );
  }
  if (rule.pattern !== undefined && !/\{yearStart\}|\{yearEnd\}/.test(rule.pattern)) {
    problems.push(`${field}.pattern: "${rule.pattern}" names no year; use {yearStart} and/or {yearEnd}, e.g. "{yearStart}-{yearEnd}"`);
  }
  if (rule.yearsBack !== undefined && (!Number.isInteger(rule.yearsBack) || rule.yearsBack < 0 || rule.yearsBack > 50)) {
    problems.push(`${field}.yearsBack: must be a whole number from 0 (the current academic year) to 50, got ${rule.yearsBack}`);
  }
  if (rule.startMonth !== undefined && (!Number.isInteger(rule.startMonth) || rule.startMonth < 1 || rule.startMonth > 12)) {
    problems.push(`${field}.startMonth: must be a month number from 1 to 12 (9 for September), got ${rule.startMonth}`);
  }
  if (rule.list) {
    if (!rule.list.length) problems.push(`${field}.list: list at least one { from, vintage }`);
    rule.list.forEach((e, i) => {
      if (!DateTime.fromISO(e.from, { zone: 'UTC' }).isValid || !/^\d{4}-\d{2}-\d{2}$/.test(e.from))
        problems.push(`${field}.list[${i}].from: "${e.from}" is not a date; write YYYY-MM-DD`);
      if (!e.vintage) problems.push(`${field}.list[${i}].vintage: give the vintage label, e.g. "2024-2025"`);
      if (i > 0 && e.from <= rule.list![i - 1].from)
        problems.push(`${field}.list[${i}].from: dates must increase; ${e.from} is not after ${rule.list![i - 1].from}`);
    });
  }
  return problems;
}

/** The vintage a schedule firing at `atMs` must archive, or null when an explicit list has none yet. */
export function vintageAt(rule: VintageRule, atMs: number): string | null {
  const at = DateTime.fromMillis(atMs, { zone: rule.timezone });
  if (rule.list) {
    const day = at.toISODate()!;
    const current = rule.list.filter((e) => e.from <= day).at(-1);
    return current?.vintage ?? null;
  }
  const startMonth = rule.startMonth ?? DEFAULT_START_MONTH;
  const currentStart = at.month >= startMonth ? at.year : at.year - 1;
  const yearStart = currentStart - (rule.yearsBack ?? 1);
  return rule.pattern!.replaceAll('{yearStart}', String(yearStart)).replaceAll('{yearEnd}', String(yearStart + 1));
}

/** The rule in a few words, for lists and failures. */
export function describeVintageRule(rule: VintageRule): string {
  const where = `category ${rule.match} = the vintage${rule.parentCategoryId ? `, under category ${rule.parentCategoryId}` : ''}`;
  if (rule.list) return `explicit list (${rule.list.map((e) => `${e.vintage} from ${e.from}`).join(', ')}); ${where}`;
  const back = rule.yearsBack ?? 1;
  return `"${rule.pattern}" of the academic year ${back === 0 ? 'in progress' : `${back} before the current one`} (years start in month ${rule.startMonth ?? DEFAULT_START_MONTH}); ${where}`;
}
