// What the hosts' activities count: bytes moved, sources deleted, archives expired (exported with the SDK's
// metrics by the worker's Prometheus endpoint).
import { metricMeter } from '@temporalio/activity';

export const bytesMoved = () => metricMeter.createCounter('archiver_bytes_moved', 'bytes', 'backup bytes moved between hosts');
export const sourceDeletions = () =>
  metricMeter.createCounter('archiver_source_deletions', 'courses', 'source courses deleted once verified');
export const archiveExpiries = () =>
  metricMeter.createCounter('archiver_archive_expiries', 'archives', 'archives deleted at the end of their retention');
