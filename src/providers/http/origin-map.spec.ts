import { describe, expect, it } from 'vitest';
import { OriginMap } from './origin-map.js';

describe('OriginMap', () => {
  const map = new OriginMap({
    'https://oauth2.googleapis.com': 'http://127.0.0.1:9100',
    'https://api.example.test:8443/': 'http://localhost:9200/',
  });

  it('rewrites a matching origin and keeps path, query and hash', () => {
    const out = map.rewrite('https://oauth2.googleapis.com/token/x?a=1&b=two%20words#frag');
    expect(out.href).toBe('http://127.0.0.1:9100/token/x?a=1&b=two%20words#frag');
  });

  it('accepts URL objects and does not mutate them', () => {
    const input = new URL('https://oauth2.googleapis.com/token?access_token=abc');
    const out = map.rewrite(input);
    expect(out.href).toBe('http://127.0.0.1:9100/token?access_token=abc');
    expect(input.href).toBe('https://oauth2.googleapis.com/token?access_token=abc');
    expect(out).not.toBe(input);
  });

  it('leaves non-matching origins alone', () => {
    expect(map.rewrite('https://www.googleapis.com/calendar/v3?x=1').href).toBe(
      'https://www.googleapis.com/calendar/v3?x=1',
    );
    // Scheme matters too.
    expect(map.rewrite('http://oauth2.googleapis.com/token').href).toBe(
      'http://oauth2.googleapis.com/token',
    );
  });

  it('is port-sensitive and normalises default ports and case', () => {
    expect(map.rewrite('https://api.example.test:8443/v1').href).toBe('http://localhost:9200/v1');
    expect(map.rewrite('https://api.example.test/v1').href).toBe('https://api.example.test/v1');
    expect(map.rewrite('https://OAUTH2.googleapis.com:443/t').href).toBe('http://127.0.0.1:9100/t');
  });

  it('rejects replacements that are not bare origins', () => {
    expect(() => new OriginMap({ 'https://a.test': 'http://127.0.0.1:1/prefix' })).toThrow(
      /bare origin/,
    );
    expect(() => new OriginMap({ 'https://a.test/x': 'http://127.0.0.1:1' })).toThrow(
      /bare origin/,
    );
    expect(() => new OriginMap({ 'https://a.test': 'not a url' })).toThrow(/not a URL/);
  });

  it('is a no-op when empty', () => {
    expect(new OriginMap().rewrite('https://a.test/p?q=1').href).toBe('https://a.test/p?q=1');
  });
});
