// All activities, built from their dependencies (sites config, catalog).
import type { ArchiverConfig } from '../workers/config';
import { backupActivities } from './backup';
import { catalogActivities, type Catalog } from './catalog';
import { cleanupActivities } from './cleanup';
import { doctorActivities } from './doctor';
import { expireActivities } from './expire';
import { withFailureMapping } from './failures';
import { ledgerActivities } from './ledger';
import { notifyActivities } from './notify';
import { postprocessActivities } from './postprocess';
import { prepareActivities } from './prepare';
import { restoreActivities } from './restore';
import { selectActivities } from './select';
import { siteCheckActivities } from './site-check';
import { Sites } from './sites';
import { transportActivities } from './transport';

export function createActivities(config: ArchiverConfig, catalog: Catalog) {
  const sites = new Sites(config);
  return withFailureMapping({
    ...siteCheckActivities(sites),
    ...doctorActivities(sites),
    ...selectActivities(sites),
    ...prepareActivities(sites, catalog),
    ...backupActivities(sites),
    ...transportActivities(sites),
    ...restoreActivities(sites),
    ...postprocessActivities(sites, catalog),
    ...cleanupActivities(sites, catalog),
    ...catalogActivities(catalog),
    ...expireActivities(sites, catalog),
    ...notifyActivities(config),
    ...ledgerActivities(catalog),
  });
}

export type Activities = ReturnType<typeof createActivities>;
