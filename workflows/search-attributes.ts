// Custom search attributes: they make every session and course findable in
// the Web UI and with `temporal workflow list --query`.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const ArchiveSession = defineSearchAttributeKey('ArchiveSession', SearchAttributeType.KEYWORD);
export const ArchiveVintage = defineSearchAttributeKey('ArchiveVintage', SearchAttributeType.KEYWORD);
export const ArchiveCourseId = defineSearchAttributeKey('ArchiveCourseId', SearchAttributeType.INT);
export const ArchivePhase = defineSearchAttributeKey('ArchivePhase', SearchAttributeType.KEYWORD);
export const ArchiveStatus = defineSearchAttributeKey('ArchiveStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [ArchiveSession, ArchiveVintage, ArchiveCourseId, ArchivePhase, ArchiveStatus];
