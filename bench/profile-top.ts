import { readFileSync } from 'node:fs';

/**
 * Prints the functions with the most self time in V8 `.cpuprofile` files (`--cpu-prof` output),
 * and the same grouped by package or source folder:
 *   npx tsx bench/profile-top.ts bench/results/CPU.*.cpuprofile [--top=30] [--focus=TEXT]
 *     [--timeline] [--window=FROM-TO]
 * --timeline prints each profile's busy milliseconds per second; --window=FROM-TO keeps the
 * samples between those seconds (a benchmark's measured phase without its set-up).
 */

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/(dist|src)\/(.+)\/[^/]+$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url.startsWith('node:') ? url : url ? 'other' : '(native / gc / idle)';
}

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 30);
/** --focus=TEXT keeps only samples with a frame whose function or file contains TEXT. */
const focus = args.find((a) => a.startsWith('--focus='))?.slice(8);
const files = args.filter((a) => !a.startsWith('--'));
/** --window=FROM-TO (seconds from the profile's start) keeps one phase, e.g. the measured one. */
const window = args
  .find((a) => a.startsWith('--window='))
  ?.slice(9)
  .split('-')
  .map((v) => Number(v) * 1e6);
const timeline = args.includes('--timeline');

/** Sample times in µs from the profile's start. */
function sampleTimes(profile: Profile): number[] {
  let at = 0;
  return profile.samples.map((_, i) => (at += profile.timeDeltas[i] ?? 0));
}

/** Busy milliseconds per second of the profile, to find a phase for --window. */
function printTimeline(file: string, profile: Profile, nodes: Map<number, ProfileNode>): void {
  const times = sampleTimes(profile);
  const perSecond: number[] = [];
  profile.samples.forEach((id, i) => {
    if (nodes.get(id)!.callFrame.functionName === '(idle)') return;
    const s = Math.floor(times[i] / 1e6);
    perSecond[s] = (perSecond[s] ?? 0) + (profile.timeDeltas[i + 1] ?? 0);
  });
  const busy = perSecond.map((us, s) => (us > 50_000 ? `${s}s:${(us / 1000).toFixed(0)}` : ''));
  console.log(`${file}\n  busy ms per second: ${busy.filter(Boolean).join(' ')}`);
}

const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
/** Time with the package / folder anywhere on the stack (each counted once per sample). */
const inclusive = new Map<string, number>();
let total = 0;

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  if (timeline) printTimeline(file, profile, nodes);
  const times = sampleTimes(profile);
  const [from, to] = window ?? [0, Number.POSITIVE_INFINITY];
  // Self time per sample: the delta to the next sample, attributed to the sampled node.
  profile.samples.forEach((id, i) => {
    if (times[i] < from || times[i] >= to) return;
    const node = nodes.get(id)!;
    const us = profile.timeDeltas[i + 1] ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') return;
    if (focus) {
      let hit = false;
      for (let at: number | undefined = id; at !== undefined && !hit; at = parent.get(at)) {
        const frame = nodes.get(at)!.callFrame;
        hit = frame.url.includes(focus) || frame.functionName.includes(focus);
      }
      if (!hit) return;
    }
    total += us;
    const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/work\/main\//, '')}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const place = functionName.startsWith('(') ? functionName : where(url);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = nodes.get(at)!.callFrame;
      if (frame.url) seen.add(where(frame.url));
    }
    for (const p of seen) inclusive.set(p, (inclusive.get(p) ?? 0) + us);
  });
}

const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (busy ${(total / 1e6).toFixed(2)} s)`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
    );
  }
};
print('self time by package / folder', byPlace);
print('self time by function', byFunction);
print('inclusive time by package / folder', inclusive);
