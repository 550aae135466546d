import type { HourBucket } from './admin-data.service.js';
import { esc } from './admin-views.js';

const COLOURS = ['#0b57d0', '#a40e26', '#9a6700'];
const SWATCHES = ['swatch-a', 'swatch-b', 'swatch-c'];
const WIDTH = 480;
const HEIGHT = 160;
const AXIS = 24;

/**
 * A stacked hourly bar chart as inline SVG (no script, no package, nothing remote). It is
 * described three ways: the SVG's <title> and <desc> (role="img"), a caption with the totals and
 * the busiest hour, and a table of every hour for screen readers and exact numbers.
 */
export function hourlyChart(
  id: string,
  title: string,
  buckets: HourBucket[],
  series: { key: string; label: string }[],
): string {
  const totals = buckets.map((b) => series.reduce((sum, s) => sum + (b.values[s.key] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const slot = (WIDTH - AXIS) / buckets.length;
  const bars = buckets
    .map((b, i) => {
      let y = HEIGHT - AXIS;
      return series
        .map((s, k) => {
          const v = b.values[s.key] ?? 0;
          if (!v) return '';
          const h = ((HEIGHT - AXIS - 8) * v) / max;
          y -= h;
          return `<rect x="${(AXIS + i * slot + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${(slot - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[k]}"></rect>`;
        })
        .join('');
    })
    .join('');
  const hourLabel = (iso: string) => iso.slice(11, 16);
  const ticks = [0, 6, 12, 18, 23]
    .map(
      (i) =>
        `<text x="${(i === 23 ? WIDTH - 1 : AXIS + i * slot + slot / 2).toFixed(1)}" y="${HEIGHT - 6}" font-size="11" text-anchor="${i === 23 ? 'end' : 'middle'}" fill="#1f2328">${esc(hourLabel(buckets[i]?.hour ?? ''))}</text>`,
    )
    .join('');
  const sums = series.map(
    (s) => `${buckets.reduce((sum, b) => sum + (b.values[s.key] ?? 0), 0)} ${s.label}`,
  );
  const peak = totals.indexOf(Math.max(...totals));
  const summary = totals.every((t) => t === 0)
    ? 'Nothing in the last 24 hours.'
    : `Last 24 hours: ${sums.join(', ')}. Busiest hour: ${hourLabel(buckets[peak].hour)} UTC with ${totals[peak]}.`;
  const rows = buckets
    .map(
      (b, i) =>
        `<tr><th scope="row">${esc(hourLabel(b.hour))}</th>${series.map((s) => `<td class="num">${b.values[s.key] ?? 0}</td>`).join('')}<td class="num">${totals[i]}</td></tr>`,
    )
    .join('');
  return `<figure aria-labelledby="${id}-cap">
<svg role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">
<title id="${id}-title">${esc(title)}</title>
<desc id="${id}-desc">${esc(summary)}</desc>
<line x1="${AXIS}" y1="${HEIGHT - AXIS}" x2="${WIDTH}" y2="${HEIGHT - AXIS}" stroke="#57606a"></line>
<text x="2" y="12" font-size="11" fill="#1f2328">${max}</text>
${bars}${ticks}
</svg>
<ul class="legend">${series.map((s, k) => `<li><span class="swatch ${SWATCHES[k]}" aria-hidden="true"></span>${esc(s.label)}</li>`).join('')}</ul>
<figcaption id="${id}-cap">${esc(title)}, hourly, UTC. ${esc(summary)}</figcaption>
<details><summary>${esc(title)}: every hour</summary>
<div class="table-wrap" tabindex="0" role="region" aria-label="${esc(title)}: every hour">
<table><thead><tr><th scope="col">Hour (UTC)</th>${series.map((s) => `<th scope="col" class="num">${esc(s.label)}</th>`).join('')}<th scope="col" class="num">Total</th></tr></thead>
<tbody>${rows}</tbody></table></div>
</details>
</figure>`;
}
