// Per-site access for activities: a site id in, a Moodle client, host
// adapter or staging folder out. Workflows only ever name site ids.
import { ApplicationFailure } from '@temporalio/activity';
import type { ArchiverConfig, SiteSettings } from '../workers/config';
import { MoodleClient } from './moodle/client';
import { MoodleHost } from './moodle/host';

export class Sites {
  private readonly clients = new Map<string, MoodleClient>();

  constructor(private readonly config: ArchiverConfig) {}

  settings(siteId: string): SiteSettings {
    const site = this.config.sites[siteId];
    if (!site) throw ApplicationFailure.nonRetryable(`Unknown site "${siteId}": it is not in this worker's config`, 'UnknownSite');
    return site;
  }

  moodle(siteId: string): MoodleClient {
    let c = this.clients.get(siteId);
    if (!c) {
      const s = this.settings(siteId);
      c = new MoodleClient({ siteId, url: s.url, token: s.token, timeoutSeconds: s.requestTimeoutSeconds });
      this.clients.set(siteId, c);
    }
    return c;
  }

  host(siteId: string): MoodleHost {
    const s = this.settings(siteId);
    return new MoodleHost(siteId, s.cli);
  }

  staging(siteId: string): string {
    return this.settings(siteId).staging;
  }
}
