import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adfToText, MAX_ADF_DEPTH, MAX_ADF_TEXT } from './jira.adf.js';
import type { JiraIssue } from './jira.types.js';

// Builders in the shape the sandbox fake seeds its descriptions with (sandbox/jira/seed.ts).
type Node = Record<string, unknown>;
const doc = (...content: unknown[]): Node => ({ type: 'doc', version: 1, content });
const p = (...content: unknown[]): Node => ({ type: 'paragraph', content });
const text = (t: string, marks?: unknown[]): Node =>
  marks ? { type: 'text', text: t, marks } : { type: 'text', text: t };
const link = (t: string, href: string, ...other: unknown[]) =>
  text(t, [...other, { type: 'link', attrs: { href } }]);
const li = (...content: unknown[]): Node => ({ type: 'listItem', content });
const bullets = (...items: Array<string | Node>): Node => ({
  type: 'bulletList',
  content: items.map((i) => (typeof i === 'string' ? li(p(text(i))) : i)),
});
const ordered = (attrs: Record<string, unknown> | undefined, ...items: Node[]): Node => ({
  type: 'orderedList',
  ...(attrs ? { attrs } : {}),
  content: items,
});
const mention = (id: string, name?: string) => ({
  type: 'mention',
  attrs: name === undefined ? { id } : { id, text: name },
});
const hardBreak = { type: 'hardBreak' };
const node = (type: string, attrs?: Record<string, unknown>, content?: unknown[]): Node => ({
  type,
  ...(attrs ? { attrs } : {}),
  ...(content ? { content } : {}),
});

/** The fake's richest seeded description, as its issue JSON carries it. */
const SEEDED = (
  JSON.parse(
    readFileSync(new URL('./fixtures/issue-full.json', import.meta.url), 'utf8'),
  ) as JiraIssue
).fields!.description;

describe('adfToText: the seeded descriptions', () => {
  it('renders marks away, lists as "- item", links with their target and mentions by name', () => {
    expect(adfToText(SEEDED)).toBe(
      [
        'Steps: open the deck, press Save.',
        '',
        '- Chrome 131',
        '- Firefox 133',
        '',
        'See the runbook (https://pdeck.atlassian.net/wiki/runbook), cc @Bob Builder',
      ].join('\n'),
    );
  });

  it('renders the one-paragraph and the paragraph-and-list descriptions', () => {
    expect(adfToText(doc(p(text('Draft in the wiki.'))))).toBe('Draft in the wiki.');
    expect(
      adfToText(
        doc(
          p(text('Users asked for PDF export.')),
          bullets('A4 and Letter', 'Speaker notes optional'),
        ),
      ),
    ).toBe('Users asked for PDF export.\n\n- A4 and Letter\n- Speaker notes optional');
    expect(
      adfToText(
        doc(
          p(
            text('Ping '),
            mention('5b10ac8d82e05b22cc7d4ef5', '@Alice Example'),
            text(' when done.'),
          ),
        ),
      ),
    ).toBe('Ping @Alice Example when done.');
  });
});

describe('adfToText: blocks', () => {
  it('separates paragraphs and headings by a blank line; a hardBreak is a newline', () => {
    const d = doc(
      node('heading', { level: 2 }, [text('Summary')]),
      p(text('line one'), hardBreak, text('line two')),
      p(text('last')),
    );
    expect(adfToText(d)).toBe('Summary\n\nline one\nline two\n\nlast');
  });

  it('keeps code blocks verbatim, indentation and line breaks included', () => {
    const code = node('codeBlock', { language: 'ts' }, [text('if (a) {\n  run();\n}')]);
    expect(adfToText(doc(p(text('Run:')), code))).toBe('Run:\n\nif (a) {\n  run();\n}');
  });

  it('prefixes every line of a blockquote with "> ", blank lines included', () => {
    const quote = node('blockquote', undefined, [p(text('a'), hardBreak, text('b')), p(text('c'))]);
    expect(adfToText(doc(quote, p(text('after'))))).toBe('> a\n> b\n>\n> c\n\nafter');
  });

  it('renders a rule as ---', () => {
    expect(adfToText(doc(p(text('above')), node('rule'), p(text('below'))))).toBe(
      'above\n\n---\n\nbelow',
    );
  });

  it('walks panels and expands (with the expand title); cards give their url', () => {
    const d = doc(
      node('panel', { panelType: 'info' }, [p(text('Heads up'))]),
      node('expand', { title: 'Details' }, [p(text('hidden text'))]),
      node('nestedExpand', {}, [p(text('no title'))]),
      node('blockCard', { url: 'https://example.com/card' }),
    );
    expect(adfToText(d)).toBe(
      'Heads up\n\nDetails\n\nhidden text\n\nno title\n\nhttps://example.com/card',
    );
  });

  it('renders a table as one line per row, cells separated by " | "', () => {
    const cell = (type: string, ...content: Node[]) => node(type, {}, content);
    const row = (...cells: Node[]) => node('tableRow', undefined, cells);
    const d = doc(
      node('table', { layout: 'default' }, [
        row(cell('tableHeader', p(text('Browser'))), cell('tableHeader', p(text('Result')))),
        row(
          cell('tableCell', p(text('Chrome'))),
          cell('tableCell', p(text('fails')), p(text('twice'))),
        ),
      ]),
    );
    expect(adfToText(d)).toBe('Browser | Result\nChrome | fails twice');
  });
});

describe('adfToText: lists', () => {
  it('numbers ordered lists from attrs.order, and from 1 without a usable one', () => {
    const items = [li(p(text('three'))), li(p(text('four')))];
    expect(adfToText(doc(ordered({ order: 3 }, ...items)))).toBe('3. three\n4. four');
    expect(adfToText(doc(ordered(undefined, ...items)))).toBe('1. three\n2. four');
    expect(adfToText(doc(ordered({ order: 'x' }, ...items)))).toBe('1. three\n2. four');
    expect(adfToText(doc(ordered({ order: -2 }, ...items)))).toBe('1. three\n2. four');
  });

  it('indents nested lists two spaces per level, across list kinds', () => {
    const d = doc(
      bullets(
        li(
          p(text('fruit')),
          ordered(undefined, li(p(text('apple')), bullets('green', 'red')), li(p(text('pear')))),
        ),
        'veg',
      ),
    );
    expect(adfToText(d)).toBe(
      ['- fruit', '  1. apple', '    - green', '    - red', '  2. pear', '- veg'].join('\n'),
    );
  });

  it("aligns an item's further lines under its text and keeps empty items", () => {
    const d = doc(
      ordered(
        { order: 9 },
        li(p(text('first'), hardBreak, text('continued')), p(text('second paragraph'))),
        li(),
        li(bullets('only a nested list')),
      ),
    );
    expect(adfToText(d)).toBe(
      [
        '9. first',
        '   continued',
        '   second paragraph',
        '10.',
        '11.',
        '  - only a nested list',
      ].join('\n'),
    );
  });
});

describe('adfToText: inline nodes and marks', () => {
  it('adds "@" to a mention when its text lacks it and drops one without text', () => {
    const d = doc(p(mention('id-1', 'Alice'), text(' and '), mention('id-2'), text('.')));
    expect(adfToText(d)).toBe('@Alice and .');
  });

  it('renders emoji by text, else by short name', () => {
    const d = doc(
      p(
        node('emoji', { shortName: ':smile:', text: '😄' }),
        text(' '),
        node('emoji', { shortName: ':party:' }),
      ),
    );
    expect(adfToText(d)).toBe('😄 :party:');
  });

  it('writes a link as "text (href)", once per run of text with the same target', () => {
    const href = 'https://example.com/doc';
    const d = doc(
      p(
        link('the ', href),
        link('runbook', href, { type: 'strong' }),
        text(' and '),
        link('a', 'https://a.example'),
        link('b', 'https://b.example'),
      ),
    );
    expect(adfToText(d)).toBe(
      'the runbook (https://example.com/doc) and a (https://a.example)b (https://b.example)',
    );
  });

  it('writes a link whose text is its target once; ignores a link without href', () => {
    const d = doc(
      p(
        link('https://example.com', 'https://example.com'),
        text(' '),
        text('plain', [{ type: 'link', attrs: {} }, { type: 'em' }]),
      ),
    );
    expect(adfToText(d)).toBe('https://example.com plain');
  });

  it('renders inline cards by url, status lozenges by text and dates as ISO dates', () => {
    const d = doc(
      p(
        node('inlineCard', { url: 'https://pdeck.atlassian.net/browse/PD-2' }),
        text(' is '),
        node('status', { text: 'IN REVIEW', color: 'blue' }),
        text(' since '),
        node('date', { timestamp: '1690344879000' }),
        text(', due '),
        node('date', { timestamp: 1772582400000 }),
        node('date', { timestamp: 'yesterday' }),
        node('date', { timestamp: '99999999999999999' }),
      ),
    );
    expect(adfToText(d)).toBe(
      'https://pdeck.atlassian.net/browse/PD-2 is IN REVIEW since 2023-07-26, due 2026-03-04',
    );
  });

  it('drops placeholders (an editor hint, not content) and media', () => {
    const d = doc(
      p(text('a'), node('placeholder', { text: 'Type something' }), text('b')),
      node('mediaSingle', { layout: 'center' }, [node('media', { id: 'x', type: 'file' })]),
    );
    expect(adfToText(d)).toBe('ab');
  });
});

describe('adfToText: input shapes', () => {
  it('returns a plain string description (API v2 style) as is', () => {
    expect(adfToText('Line 1\n\n\n*wiki* markup  ')).toBe('Line 1\n\n\n*wiki* markup  ');
  });

  it('is null for null, undefined, empty text, non-documents and documents without text', () => {
    for (const value of [null, undefined, '', '  \n', 42, true, [], {}, doc(), doc(p(), p())]) {
      expect(adfToText(value)).toBeNull();
    }
    expect(adfToText(doc(p(text('   ')), node('bulletList', undefined, [])))).toBeNull();
  });

  it('walks unknown nodes, block and inline, for their text', () => {
    const d = doc(
      node('layoutSection', {}, [
        node('layoutColumn', { width: 50 }, [p(text('left'))]),
        node('futureBlock', {}, [p(text('right'))]),
      ]),
      p(text('x '), node('futureInline', {}, [text('inner')]), text(' y')),
    );
    expect(adfToText(d)).toBe('left\n\nright\n\nx inner y');
  });

  it('groups inline nodes found outside a paragraph into one paragraph', () => {
    const d = doc(text('loose '), mention('id', '@Bob'), p(text('next')));
    expect(adfToText(d)).toBe('loose @Bob\n\nnext');
  });

  it('skips malformed parts instead of throwing', () => {
    const d = {
      type: 'doc',
      content: [
        null,
        'text',
        7,
        [p(text('in an array'))],
        { type: 'paragraph', content: 'not an array' },
        { type: 'paragraph', content: [{ type: 'text', text: 12 }, text('ok')] },
        { type: 'paragraph', content: [text('m', 'marks' as unknown as unknown[])] },
        { type: 'mention', attrs: null },
        { type: 'bulletList', content: [{ type: 'listItem', content: {} }] },
        { type: 'orderedList', attrs: 'x', content: [li(p(text('n')))] },
      ],
    };
    expect(adfToText(d)).toBe('ok\n\nm\n\n-\n\n1. n');
  });

  it('trims trailing whitespace and collapses three or more newlines to two', () => {
    const d = doc(
      p(text('a   '), hardBreak, hardBreak, hardBreak, hardBreak, text('b')),
      p(text(' ')),
      p(text('c'), hardBreak),
      p(text('d \t')),
    );
    expect(adfToText(d)).toBe('a\n\nb\n\nc\n\nd');
  });
});

describe('adfToText: bounds', () => {
  it('cuts a long text at the limit and ends it with an ellipsis', () => {
    const out = adfToText(doc(p(text('x'.repeat(MAX_ADF_TEXT * 2)))))!;
    expect(out).toHaveLength(MAX_ADF_TEXT);
    expect(out.endsWith('x…')).toBe(true);
    // Exactly at the limit: kept whole.
    expect(adfToText(doc(p(text('y'.repeat(MAX_ADF_TEXT)))))).toBe('y'.repeat(MAX_ADF_TEXT));
  });

  it('bounds many small blocks, markers and separators included', () => {
    const rules = Array.from({ length: 100_000 }, () => node('rule'));
    const out = adfToText(doc(...rules))!;
    expect(out.length).toBeLessThanOrEqual(MAX_ADF_TEXT);
    expect(out.startsWith('---\n\n---')).toBe(true);
    expect(out.endsWith('…')).toBe(true);

    const items = Array.from({ length: 50_000 }, (_, i) => li(p(text(`item ${i}`))));
    const list = adfToText(doc(ordered(undefined, ...items)))!;
    expect(list.length).toBeLessThanOrEqual(MAX_ADF_TEXT);
    expect(list.startsWith('1. item 0\n2. item 1\n')).toBe(true);
  });

  it('never cuts inside a surrogate pair', () => {
    const out = adfToText(doc(p(text('😀'.repeat(MAX_ADF_TEXT)))))!;
    expect(out.length).toBeLessThanOrEqual(MAX_ADF_TEXT);
    expect(out.endsWith('😀…')).toBe(true);
  });

  it('bounds a plain string description the same way', () => {
    const out = adfToText('z'.repeat(MAX_ADF_TEXT + 10))!;
    expect(out).toHaveLength(MAX_ADF_TEXT);
    expect(out.endsWith('z…')).toBe(true);
  });

  it('stops at the depth limit instead of overflowing the stack', () => {
    // Far deeper than any stack allows for a naive recursion; built without recursion.
    const nest = (type: string, levels: number, leaf: Node): Node => {
      let inner = leaf;
      for (let i = 0; i < levels; i++) inner = node(type, {}, [inner]);
      return inner;
    };
    for (const type of ['blockquote', 'panel', 'listItem', 'bulletList', 'futureBlock']) {
      const d = doc(p(text('top')), nest(type, 200_000, p(text('bottom'))));
      const out = adfToText(d);
      expect(out, type).toMatch(/^top/);
      expect(out, type).not.toContain('bottom');
      expect(out, type).toMatch(/…$/);
    }
    const inline = doc(p(text('top '), nest('futureInline', 200_000, text('bottom'))));
    expect(adfToText(inline)).toBe('top…');
  });

  it('keeps text nested up to the depth limit and cuts what lies below it', () => {
    const wrapped = (levels: number) => {
      let inner: Node = p(text('deep'));
      for (let i = 0; i < levels; i++) inner = node('panel', {}, [inner]);
      return doc(p(text('top')), inner);
    };
    // doc is level 0, each panel one more, the paragraph one more, its text one more.
    expect(adfToText(wrapped(MAX_ADF_DEPTH - 2))).toBe('top\n\ndeep');
    expect(adfToText(wrapped(MAX_ADF_DEPTH - 1))).toBe('top…');
  });
});
