// The simulator's command: seed sites into a folder, then serve them.
//   npm run simulator -- seed --data .data/sim --courses 220
//   npm run simulator -- serve --data .data/sim --port prod=8801 --port archive=8802
import { Command } from 'commander';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { seedDemoSites } from './seed';
import { startSimulator } from './server';

const program = new Command().name('moodle-simulator');

program
  .command('seed')
  .description('create a production site (vintages 2024-2025 and 2025-2026) and an empty archive site')
  .option('--data <dir>', 'folder that holds the sites', '.data/sim')
  .option('--courses <n>', 'courses in the 2024-2025 vintage', (v) => Number(v), 220)
  .option('--content-scale <x>', 'bytes stored per declared byte', (v) => Number(v), 0.005)
  .action((o: { data: string; courses: number; contentScale: number }) => {
    const { tokens } = seedDemoSites({ dataDir: o.data, courses: o.courses, contentScale: o.contentScale });
    console.log(`Seeded ${o.data}. Web-service tokens (put them in the worker's environment):`);
    for (const [site, token] of Object.entries(tokens)) console.log(`  MOODLE_TOKEN_${site.toUpperCase()}=${token}`);
  });

program
  .command('serve')
  .description('serve every seeded site in the folder, each on its own loopback port')
  .option('--data <dir>', 'folder that holds the sites', '.data/sim')
  .option(
    '--port <site=port>',
    'fixed port for a site (repeatable)',
    (v: string, acc: Record<string, number>) => {
      const [site, port] = v.split('=');
      return { ...acc, [site]: Number(port) };
    },
    {} as Record<string, number>,
  )
  .action(async (o: { data: string; port: Record<string, number> }) => {
    const sites = readdirSync(o.data).filter((d) => existsSync(join(o.data, d, 'state.json')));
    if (!sites.length) throw new Error(`No seeded site in ${o.data}: run "seed" first`);
    const sim = await startSimulator({ dataDir: o.data, sites: sites.map((siteId) => ({ siteId, port: o.port[siteId] })) });
    for (const s of Object.values(sim.sites))
      console.log(`${s.siteId}: ${s.url} (admin CLI: ${sim.phpCommand.join(' ')} ${s.moodleDir}/admin/cli/<script>.php)`);
    await new Promise<void>((r) => {
      process.once('SIGINT', () => r());
      process.once('SIGTERM', () => r());
    });
    await sim.stop();
  });

await program.parseAsync();
