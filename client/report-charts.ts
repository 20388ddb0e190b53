// The report's pictures, as inline SVG (the page stays one self-contained file to mail): courses finished over
// time, phase durations by backup size, and time spent per host. Text in them is escaped like the page's.
const W = 640;
const H = 220;
const PAD = { left: 56, right: 16, top: 12, bottom: 40 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];

const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function frame(title: string, body: string, xLabel: string, yLabel: string): string {
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">
<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>
<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#444"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#444"/>
${body}
<text x="${(W + PAD.left) / 2}" y="${H - 6}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>
<text x="14" y="${(H - PAD.bottom) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(H - PAD.bottom) / 2})">${esc(yLabel)}</text>
</svg><figcaption>${esc(title)}</figcaption></figure>`;
}

/** Maps [min, max] onto a pixel range; a single value sits in the middle. */
function scale(min: number, max: number, from: number, to: number) {
  return (v: number) => (max === min ? (from + to) / 2 : from + ((v - min) / (max - min)) * (to - from));
}

/** Courses finished over time: a step line from the session's start, ticks labelled by `label`. */
export function finishedOverTime(startMs: number, ends: number[], label: (ms: number) => string): string {
  const xs = [...ends].sort((a, b) => a - b);
  if (!xs.length) return '';
  const x = scale(startMs, Math.max(startMs + 1, xs.at(-1)!), PAD.left, W - PAD.right);
  const y = scale(0, xs.length, H - PAD.bottom, PAD.top);
  let d = `M${x(startMs)},${y(0)}`;
  xs.forEach((t, i) => (d += ` H${x(t).toFixed(1)} V${y(i + 1).toFixed(1)}`));
  // The first label starts at the axis, the last ends at its end: both stay inside the picture.
  const anchors = ['start', 'middle', 'end'];
  const ticks = [startMs, (startMs + xs.at(-1)!) / 2, xs.at(-1)!]
    .map((t, i) => `<text x="${x(t)}" y="${H - PAD.bottom + 14}" font-size="11" text-anchor="${anchors[i]}">${esc(label(t))}</text>`)
    .join('');
  const yTicks = [0, xs.length]
    .map((n) => `<text x="${PAD.left - 6}" y="${y(n) + 4}" font-size="11" text-anchor="end">${n}</text>`)
    .join('');
  return frame(
    'Courses finished over time',
    `<path d="${d}" fill="none" stroke="${COLORS[0]}" stroke-width="2"/>${ticks}${yTicks}`,
    'time',
    'courses finished',
  );
}

/** Each phase's duration against the course's backup size, one colour per phase. */
export function phaseDurationsBySize(points: { phase: string; mb: number; seconds: number }[], phases: readonly string[]): string {
  if (!points.length) return '';
  const x = scale(0, Math.max(...points.map((p) => p.mb)), PAD.left + 6, W - PAD.right - 6);
  const top = Math.max(...points.map((p) => p.seconds));
  const y = scale(0, top, H - PAD.bottom - 4, PAD.top + 4);
  const dots = points
    .map(
      (p) =>
        `<circle cx="${x(p.mb).toFixed(1)}" cy="${y(p.seconds).toFixed(1)}" r="3" fill="${COLORS[phases.indexOf(p.phase) % COLORS.length]}" fill-opacity="0.75"/>`,
    )
    .join('');
  const legend = phases
    .map(
      (p, i) =>
        `<rect x="${PAD.left + 10 + i * 90}" y="${PAD.top}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${PAD.left + 24 + i * 90}" y="${PAD.top + 9}" font-size="11">${esc(p)}</text>`,
    )
    .join('');
  const ticks = `<text x="${PAD.left - 6}" y="${y(top) + 4}" font-size="11" text-anchor="end">${fmt(top)} s</text><text x="${PAD.left - 6}" y="${y(0) + 4}" font-size="11" text-anchor="end">0</text>
<text x="${W - PAD.right}" y="${H - PAD.bottom + 14}" font-size="11" text-anchor="end">${fmt(Math.max(...points.map((p) => p.mb)))} MB</text>`;
  return frame('Phase durations by backup size', `${dots}${legend}${ticks}`, 'backup size (MB)', 'phase duration (s)');
}

/** Time spent on each host (the Moodle hosts' and the main worker's phases), as horizontal bars. */
export function timePerHost(hosts: { host: string; seconds: number }[], duration: (s: number) => string): string {
  if (!hosts.length) return '';
  const max = Math.max(...hosts.map((h) => h.seconds), 1);
  const row = (H - PAD.top - PAD.bottom) / hosts.length;
  const x = scale(0, max, PAD.left + 60, W - PAD.right - 80);
  const bars = hosts
    .map((h, i) => {
      const top = PAD.top + i * row + row * 0.15;
      return `<text x="${PAD.left + 54}" y="${top + row * 0.45}" font-size="12" text-anchor="end">${esc(h.host)}</text>
<rect x="${PAD.left + 60}" y="${top}" width="${(x(h.seconds) - PAD.left - 60).toFixed(1)}" height="${(row * 0.7).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"/>
<text x="${x(h.seconds) + 6}" y="${top + row * 0.45}" font-size="12">${esc(duration(h.seconds * 1000))}</text>`;
    })
    .join('');
  return frame('Time per host (all courses, phase by phase)', bars, 'time spent', '');
}
