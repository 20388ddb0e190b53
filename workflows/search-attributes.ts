// Custom search attributes: they make every session and course findable in
// the Web UI and with `temporal workflow list --query`.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const ArchiveSession = defineSearchAttributeKey('ArchiveSession', SearchAttributeType.KEYWORD);
export const ArchiveVintage = defineSearchAttributeKey('ArchiveVintage', SearchAttributeType.KEYWORD);
export const ArchiveCourseId = defineSearchAttributeKey('ArchiveCourseId', SearchAttributeType.INT);
export const ArchivePhase = defineSearchAttributeKey('ArchivePhase', SearchAttributeType.KEYWORD);
export const ArchiveStatus = defineSearchAttributeKey('ArchiveStatus', SearchAttributeType.KEYWORD);
/** The source category a session archives (resolved at fire time for scheduled sessions). */
export const ArchiveCategoryId = defineSearchAttributeKey('ArchiveCategoryId', SearchAttributeType.INT);
/** Set by the server on workflows a schedule starts: when it fired (its nominal time). */
export const TemporalScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export const SEARCH_ATTRIBUTES = [ArchiveSession, ArchiveVintage, ArchiveCourseId, ArchivePhase, ArchiveStatus, ArchiveCategoryId];
