// Pure logic, no servers: the session's state rules, verification, the
// simulator's parameter validation, secret scrubbing.
import { describe, expect, it } from 'vitest';
import { SessionState } from '../workflows/session-state';
import { shapeDifferences, type CourseShape } from '../activities/course-shape';
import { decodePhpForm, InvalidParameter, multiple, single, validateParameters, value } from '../simulator/params';
import { scrubSecrets } from '../activities/logger';

describe('SessionState', () => {
  it('bounds the window, counts outcomes once, and lists failures', () => {
    const s = SessionState.initial(0);
    s.data.total = 3;
    s.started(5, 1);
    s.started(9, 2);
    expect(s.canStart(2)).toBe(false);
    expect(s.finished({ courseId: 5, status: 'succeeded' })).toBe(true);
    expect(s.finished({ courseId: 5, status: 'succeeded' })).toBe(false); // duplicate report
    expect(s.finished({ courseId: 42, status: 'failed' })).toBe(false); // not ours
    expect(s.canStart(2)).toBe(true);
    s.finished({ courseId: 9, status: 'failed', failure: { phase: 'backup', errorType: 'X', message: 'boom' } });
    expect(s.data.cursor).toBe(9);
    expect(s.progress()).toMatchObject({ done: 2, running: 0, pending: 1, percent: 66.7, counts: { succeeded: 1, failed: 1, skipped: 0 } });
    expect(s.progress().failed).toEqual([{ courseId: 9, phase: 'backup', errorType: 'X', message: 'boom' }]);
    s.data.paused = true;
    expect(s.canStart(2)).toBe(false);
  });
});

describe('verification', () => {
  const shape: CourseShape = { sectionCount: 4, activityCount: 3, activitiesByType: { forum: 1, resource: 2 }, fileCount: 2, declaredBytes: 1000 };
  it('finds nothing to say about an identical copy', () => {
    expect(shapeDifferences(shape, structuredClone(shape))).toEqual([]);
  });
  it('names each difference', () => {
    const copy = { ...shape, activitiesByType: { forum: 1, resource: 1 }, activityCount: 2, declaredBytes: 999 };
    expect(shapeDifferences(shape, copy)).toEqual(['activities: source 3, archive 2', 'resource activities: source 2, archive 1', 'file bytes: source 1000, archive 999']);
  });
});

describe("Moodle's parameter validation (simulator)", () => {
  const desc = { courses: multiple(single({ id: value('int') })) };
  it('decodes PHP bracket notation', () => {
    expect(decodePhpForm([['courses[0][id]', '5'], ['courses[1][id]', '7']])).toEqual({ courses: { 0: { id: '5' }, 1: { id: '7' } } });
    expect(validateParameters(desc, decodePhpForm([['courses[0][id]', '5']]))).toEqual({ courses: [{ id: 5 }] });
  });
  it('rejects what Moodle rejects, with its messages', () => {
    const fails = (pairs: [string, string][]) => {
      try { validateParameters(desc, decodePhpForm(pairs)); } catch (e) { return (e as InvalidParameter).debuginfo; }
      return 'accepted';
    };
    expect(fails([['courses[0][id]', 'abc']])).toMatch(/the value is "abc", the server was expecting "int" type/);
    expect(fails([['courses', '5,7']])).toMatch(/Only arrays accepted. The bad value is: '5,7'/);
    expect(fails([['courses[0][id]', '5'], ['extra', '1']])).toMatch(/Unexpected keys \(extra\)/);
    expect(fails([])).toMatch(/Missing required key in single structure: courses/);
  });
});

describe('secret scrubbing', () => {
  it('masks tokens in query strings and form bodies', () => {
    expect(scrubSecrets('POST wstoken=abc123&wsfunction=x and ?token=def456 end')).toBe('POST wstoken=[REDACTED]&wsfunction=x and ?token=[REDACTED] end');
  });
});
