import type { AdfNode } from './jira.types.js';

/**
 * Atlassian Document Format (ADF) to plain text, for an issue's description
 * (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/).
 *
 * The text is what a reader needs, not a re-editable copy: marks are dropped except links
 * (whose target would otherwise be lost), lists keep their markers and nesting, tables become
 * one line per row. Node types this walker does not know contribute their content, so a node
 * type added to ADF later degrades to its text instead of failing the sync of the issue.
 */

/** Longest text kept (UTF-16 code units, the ellipsis included): a body is a preview, not an archive. */
export const MAX_ADF_TEXT = 64 * 1024;

/** Deepest nesting walked: real documents stay far below it; a hostile one cannot blow the stack. */
export const MAX_ADF_DEPTH = 100;

const ELLIPSIS = '…';

/** Inline nodes (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/#inline-nodes). */
const INLINE = new Set([
  'text',
  'hardBreak',
  'mention',
  'emoji',
  'inlineCard',
  'date',
  'status',
  'mediaInline',
  'placeholder',
  'inlineExtension',
]);

/** One block of output: its lines, without the blank line that separates it from the next. */
type Block = string[];

/** State of one conversion: the output budget and whether anything was left out. */
interface Walk {
  /** Characters still allowed; one more than the limit, so an overflow shows in the result. */
  remaining: number;
  truncated: boolean;
}

/**
 * The text of an issue description: ADF (API v3), or a plain string (API v2 style, and some
 * webhook payloads) returned as is. Null when there is no text. Never throws on malformed input.
 */
export function adfToText(doc: unknown): string | null {
  if (typeof doc === 'string') return doc.trim() === '' ? null : bound(doc, false);
  const root = asNode(doc);
  if (!root) return null;
  const walk: Walk = { remaining: MAX_ADF_TEXT + 1, truncated: false };
  return finish(joinBlocks(block(root, 0, walk)), walk.truncated);
}

/** A block-level node as zero or more blocks. */
function block(node: AdfNode, depth: number, walk: Walk): Block[] {
  if (depth > MAX_ADF_DEPTH) {
    walk.truncated = true;
    return [];
  }
  switch (node.type) {
    case 'paragraph':
    case 'heading':
    case 'codeBlock': // its text nodes carry the code, line breaks and indentation included
      return paragraph(node.content, depth, walk);
    case 'bulletList':
    case 'orderedList':
      return nonEmpty(list(node, depth, walk));
    case 'blockquote': {
      const lines = joinBlocks(blocks(node.content, depth, walk)).split('\n');
      charge(walk, 2 * lines.length);
      return nonEmpty(lines.map((line) => (line === '' ? '>' : `> ${line}`)));
    }
    case 'rule':
      return [[take(walk, '---')]];
    case 'blockCard':
    case 'embedCard':
      return nonEmpty([take(walk, str(node.attrs?.url) ?? '')]);
    case 'table':
      return nonEmpty(table(node, depth, walk));
    case 'expand':
    case 'nestedExpand': {
      const title = str(node.attrs?.title);
      return [...(title ? [[take(walk, title)]] : []), ...blocks(node.content, depth, walk)];
    }
    default:
      // doc, panel, layouts, decision and task lists, extensions, media, unknown types.
      return blocks(node.content, depth, walk);
  }
}

/** Children as blocks; consecutive inline children (outside a paragraph) form one paragraph. */
function blocks(content: unknown, depth: number, walk: Walk): Block[] {
  const out: Block[] = [];
  let inline: AdfNode[] = [];
  const flush = () => {
    if (inline.length) out.push(...paragraph(inline, depth, walk));
    inline = [];
  };
  for (const child of children(content)) {
    if (exhausted(walk)) break;
    if (INLINE.has(child.type ?? '')) {
      inline.push(child);
      continue;
    }
    flush();
    out.push(...block(child, depth + 1, walk));
  }
  flush();
  return out;
}

function paragraph(content: unknown, depth: number, walk: Walk): Block[] {
  const text = inlineText(content, depth + 1, walk);
  return text.trim() === '' ? [] : [text.split('\n')];
}

/**
 * Inline nodes as one string. Consecutive text nodes with the same link target are one link:
 * "the runbook (https://...)" once, even when part of the link text is bold.
 */
function inlineText(content: unknown, depth: number, walk: Walk): string {
  if (depth > MAX_ADF_DEPTH) {
    walk.truncated = true;
    return '';
  }
  let out = '';
  let href: string | null = null;
  let linked = '';
  const closeLink = () => {
    if (href !== null)
      out += linked.trim() === href || linked === '' ? href : `${linked} (${href})`;
    href = null;
    linked = '';
  };
  for (const node of children(content)) {
    if (exhausted(walk)) break;
    const target = node.type === 'text' ? linkOf(node) : null;
    if (target !== href) closeLink();
    if (target !== null) {
      if (href === null) charge(walk, target.length + 3);
      href = target;
      linked += take(walk, str(node.text) ?? '');
      continue;
    }
    out += inlineNode(node, depth, walk);
  }
  closeLink();
  return out;
}

function inlineNode(node: AdfNode, depth: number, walk: Walk): string {
  const attrs = node.attrs;
  switch (node.type) {
    case 'text':
      return take(walk, str(node.text) ?? '');
    case 'hardBreak':
      return '\n';
    case 'mention': {
      // attrs.text is the name as shown ("@Alice"); without it only an account id is left,
      // which means nothing to a reader, so the mention is dropped.
      const name = str(attrs?.text);
      return name ? take(walk, name.startsWith('@') ? name : `@${name}`) : '';
    }
    case 'emoji':
      return take(walk, str(attrs?.text) ?? str(attrs?.shortName) ?? '');
    case 'inlineCard':
      return take(walk, str(attrs?.url) ?? '');
    case 'date':
      return take(walk, isoDate(attrs?.timestamp) ?? '');
    case 'status':
      return take(walk, str(attrs?.text) ?? '');
    case 'placeholder':
      // Its text is the editor's hint for an empty spot ("Type here"), not content.
      return '';
    default:
      return inlineText(node.content, depth + 1, walk);
  }
}

/**
 * A list, one line per item: "- item" or "1. item" (from `attrs.order`), nested lists two
 * spaces further in, an item's further lines aligned under its text.
 */
function list(node: AdfNode, depth: number, walk: Walk): string[] {
  if (depth > MAX_ADF_DEPTH) {
    walk.truncated = true;
    return [];
  }
  const ordered = node.type === 'orderedList';
  let number = ordered ? startOf(node.attrs?.order) : 0;
  const lines: string[] = [];
  for (const item of children(node.content)) {
    if (exhausted(walk)) break;
    const marker = ordered ? `${number++}. ` : '- ';
    const pad = ' '.repeat(marker.length);
    let first = true;
    const add = (line: string) => {
      charge(walk, marker.length);
      lines.push(first ? marker + line : pad + line);
      first = false;
    };
    // A listItem holds blocks and nested lists; anything else in a list is read as an item.
    const parts = item.type === 'listItem' ? children(item.content) : [item];
    let run: AdfNode[] = [];
    const flush = () => {
      for (const b of blocks(run, depth, walk)) b.forEach(add);
      run = [];
    };
    for (const part of parts) {
      if (part.type !== 'bulletList' && part.type !== 'orderedList') {
        run.push(part);
        continue;
      }
      flush();
      if (first) add('');
      const nested = list(part, depth + 1, walk);
      charge(walk, 2 * nested.length);
      lines.push(...nested.map((line) => `  ${line}`));
    }
    flush();
    if (first) add('');
  }
  return lines;
}

/** One line per row, cells separated by " | " (a cell's own line breaks become spaces). */
function table(node: AdfNode, depth: number, walk: Walk): string[] {
  const lines: string[] = [];
  for (const row of children(node.content)) {
    if (exhausted(walk)) break;
    const cells = children(row.content).map((cell) =>
      joinBlocks(blocks(cell.content, depth + 1, walk))
        .replace(/\s*\n\s*/g, ' ')
        .trim(),
    );
    charge(walk, 3 * cells.length);
    const line = cells.join(' | ');
    if (line.trim() !== '') lines.push(line);
  }
  return lines;
}

/** `attrs.order` of an ordered list: the first number, 1 unless a usable integer is given. */
function startOf(order: unknown): number {
  return typeof order === 'number' && Number.isSafeInteger(order) && order >= 0 ? order : 1;
}

/** A date node's timestamp (epoch milliseconds, a string in the schema) as `yyyy-MM-dd` in UTC. */
function isoDate(timestamp: unknown): string | null {
  const ms =
    typeof timestamp === 'number'
      ? timestamp
      : typeof timestamp === 'string' && /^-?\d{1,16}$/.test(timestamp)
        ? Number(timestamp)
        : NaN;
  const at = new Date(ms);
  if (Number.isNaN(at.getTime())) return null;
  const iso = at.toISOString();
  return iso.slice(0, iso.indexOf('T'));
}

function linkOf(node: AdfNode): string | null {
  const marks = Array.isArray(node.marks) ? node.marks : [];
  for (const mark of marks) {
    if (mark?.type !== 'link') continue;
    const href = str(mark.attrs?.href);
    if (href) return href;
  }
  return null;
}

function joinBlocks(list: Block[]): string {
  return list.map((b) => b.join('\n')).join('\n\n');
}

function nonEmpty(lines: string[]): Block[] {
  return lines.some((line) => line.trim() !== '') ? [lines] : [];
}

/** The node children of `content`; anything that is not an object is skipped. */
function children(content: unknown): AdfNode[] {
  if (!Array.isArray(content)) return [];
  return content.map(asNode).filter((n): n is AdfNode => n !== null);
}

function asNode(value: unknown): AdfNode | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as AdfNode)
    : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** `text` within the budget: cut where the budget ends (the result then ends in an ellipsis). */
function take(walk: Walk, text: string): string {
  if (text.length <= walk.remaining) {
    walk.remaining -= text.length;
    return text;
  }
  const kept = text.slice(0, Math.max(walk.remaining, 0));
  walk.remaining = 0;
  walk.truncated = true;
  return kept;
}

/** Markers, prefixes and separators count against the budget too, so nesting cannot inflate it. */
function charge(walk: Walk, n: number): void {
  walk.remaining -= n;
}

function exhausted(walk: Walk): boolean {
  if (walk.remaining > 0) return false;
  walk.truncated = true;
  return true;
}

/** Trailing whitespace trimmed, at most one blank line in a row, bounded; null when empty. */
function finish(text: string, truncated: boolean): string | null {
  const tidy = text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+/, '')
    .trimEnd();
  return tidy === '' ? null : bound(tidy, truncated);
}

/** At most MAX_ADF_TEXT code units; a cut text ends in "…" (never inside a surrogate pair). */
function bound(text: string, truncated: boolean): string {
  if (!truncated && text.length <= MAX_ADF_TEXT) return text;
  let end = Math.min(text.length, MAX_ADF_TEXT - ELLIPSIS.length);
  const last = text.charCodeAt(end - 1);
  if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end).trimEnd() + ELLIPSIS;
}
