// A page as a browser shows it: Debian's chromium, headless (scripts/ensure-chromium.sh installs it).
import { execFile } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1100,2600'];

/** The page's DOM once parsed, and a screenshot of it (its path and size); a blank page's beside it, to compare. */
export async function render(htmlFile: string, dir: string): Promise<{ dom: string; png: string; bytes: number; blankBytes: number }> {
  const png = join(dir, 'page.png');
  const blank = join(dir, 'blank.html');
  writeFileSync(blank, '<!doctype html><html><body></body></html>');
  const { stdout: dom } = await run('chromium', [...FLAGS, '--dump-dom', `file://${htmlFile}`], { maxBuffer: 64 << 20 });
  await run('chromium', [...FLAGS, `--screenshot=${png}`, `file://${htmlFile}`]);
  await run('chromium', [...FLAGS, `--screenshot=${join(dir, 'blank.png')}`, `file://${blank}`]);
  return { dom, png, bytes: statSync(png).size, blankBytes: statSync(join(dir, 'blank.png')).size };
}
