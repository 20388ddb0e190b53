// Retention per category policy (seed 001: archives are deleted once their
// retention has passed). Pure: the first rule that matches the course's
// category or one of its parents decides; no rule, no end date.
import { DateTime } from 'luxon';
import type { RetentionSettings } from '../contract';
import { wildcard } from './select';

export interface CategoryRef {
  id: number;
  idnumber: string;
}

export function retentionUntil(rules: RetentionSettings[], siteId: string, chain: CategoryRef[], archivedAt: Date): Date | undefined {
  const rule = rules.find(
    (r) =>
      (!r.site || r.site === siteId) &&
      (r.categoryId
        ? chain.some((c) => c.id === r.categoryId)
        : r.categoryIdnumber
          ? chain.some((c) => wildcard(r.categoryIdnumber!).test(c.idnumber))
          : true),
  );
  return rule ? DateTime.fromJSDate(archivedAt, { zone: 'utc' }).plus({ years: rule.keepYears }).toJSDate() : undefined;
}
