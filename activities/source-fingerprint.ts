// What proves a source course unchanged: a digest of what the web services
// show of it, in four parts an admin can name. Recorded on a real Moodle 4.5
// (test/fixtures/moodle-4.5.11/source-edits.json): editing the course's
// settings moves its timemodified and cacherev; adding or hiding an activity,
// or editing a section, moves cacherev and the contents; a file uploaded into
// an activity, or a page's text edited, moves only that activity's file list
// (names, sizes, times). A backup moves nothing. Student work (forum posts,
// submissions) shows in none of these answers.
import { createHash } from 'node:crypto';
import type { MoodleClient, MoodleCourse, MoodleSection } from './moodle/client';

export const FINGERPRINT_PARTS = ['settings', 'revision', 'sections', 'activities', 'files'] as const;
export type FingerprintPart = (typeof FINGERPRINT_PARTS)[number];

/** "settings:<hash> revision:<hash> sections:<hash> …": one string, kept in facts and in the catalog. */
export type SourceFingerprint = string;

const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

export function sourceFingerprint(course: MoodleCourse, sections: MoodleSection[]): SourceFingerprint {
  const c = course as MoodleCourse & Record<string, unknown>;
  const parts: Record<FingerprintPart, unknown> = {
    // timemodified moves on a settings edit; cacherev, Moodle's own mark, on any change to modules or sections
    // (and on a cache purge: a false alarm costs one more backup, never a deletion).
    settings: [c.id, c.shortname, c.fullname, c.idnumber ?? '', c.categoryid, c.visible, c.summary, c.startdate, c.enddate, c.timemodified],
    revision: c.cacherev,
    sections: sections.map((s) => [s.id, s.section, s.name, s.summary ?? '', s.visible]),
    activities: sections.flatMap((s) => s.modules.map((m) => [s.id, m.id, m.modname, m.instance, m.name, m.visible])),
    files: sections.flatMap((s) =>
      s.modules.flatMap((m) => (m.contents ?? []).map((f) => [m.id, f.type, f.filepath, f.filename, f.filesize, f.timemodified])),
    ),
  };
  return FINGERPRINT_PARTS.map((p) => `${p}:${digest(parts[p])}`).join(' ');
}

/** The parts that differ; none when the course is as fingerprinted. */
export function fingerprintChanges(before: SourceFingerprint, now: SourceFingerprint): FingerprintPart[] {
  const parse = (f: string) => Object.fromEntries(f.split(' ').map((kv) => kv.split(':')));
  const a = parse(before);
  const b = parse(now);
  return FINGERPRINT_PARTS.filter((p) => a[p] !== b[p]);
}

/** Whether the live course still is as fingerprinted: 'gone', the parts that changed (every part when no
 * fingerprint was taken: nothing proves it unchanged), or none. */
export async function liveChanges(client: MoodleClient, courseId: number, fingerprint: SourceFingerprint | undefined) {
  const live = await liveFingerprint(client, courseId);
  if (live === undefined) return 'gone' as const;
  return fingerprint ? fingerprintChanges(fingerprint, live) : [...FINGERPRINT_PARTS];
}

/** Reads the live course: its fingerprint, or undefined when it no longer exists. */
export async function liveFingerprint(client: MoodleClient, courseId: number): Promise<SourceFingerprint | undefined> {
  const [meta] = await client.coursesByField('id', courseId);
  if (!meta) return undefined;
  return sourceFingerprint(meta, await client.contents(courseId));
}

/** What an admin reads when a course changed while it was archived. cacherev is named only when nothing else
 * shows: it moves with every edit of modules or sections. */
export function describeChanges(parts: FingerprintPart[]): string {
  const named = parts.filter((p) => p !== 'revision');
  return named.length ? `its ${named.join(', ')} changed` : "Moodle's revision of its contents (cacherev) moved";
}
