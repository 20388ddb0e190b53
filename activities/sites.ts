// Per-site access for activities: a site id in, a Moodle client, host
// adapter or staging folder out; a storage id in, its folder. Workflows only
// ever name site and storage ids.
import { ApplicationFailure } from '@temporalio/activity';
import type { ArchiverConfig, SiteSettings, StorageSettings, TransportSettings } from '../contract';
import { MoodleClient } from './moodle/client';
import { MoodleHost } from './moodle/host';

export class Sites {
  private readonly clients = new Map<string, MoodleClient>();

  constructor(readonly config: ArchiverConfig) {}

  settings(siteId: string): SiteSettings {
    const site = this.config.sites[siteId];
    if (!site) throw ApplicationFailure.nonRetryable(`Unknown site "${siteId}": it is not in this worker's config`, 'UnknownSite');
    return site;
  }

  /** The cold storage of this id, or undefined when the id names a Moodle site. */
  storage(id: string): StorageSettings | undefined {
    return this.config.storages[id];
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

  /** The staging folder of a site or a storage. */
  staging(id: string): string {
    return this.storage(id)?.staging ?? this.settings(id).staging;
  }

  /** How backups travel from `from` to `to`: the configured route, else a shared-path copy. */
  route(from: string, to: string): TransportSettings {
    return this.config.transports.find((t) => t.from === from && t.to === to) ?? { from, to, driver: 'shared-path', mode: 'copy' };
  }
}
