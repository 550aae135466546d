import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { checkReturnTo, returnToWith } from './return-to.js';

const ALLOWED = ['https://app.pdeck.example', 'http://127.0.0.1:5999/'];

describe('checkReturnTo', () => {
  it('accepts URLs on an allowed origin, whatever their path and query', () => {
    expect(checkReturnTo('https://app.pdeck.example/settings?tab=1', ALLOWED)).toBe(
      'https://app.pdeck.example/settings?tab=1',
    );
    expect(checkReturnTo('http://127.0.0.1:5999', ALLOWED)).toBe('http://127.0.0.1:5999/');
    expect(checkReturnTo('HTTPS://APP.PDECK.EXAMPLE:443/x', ALLOWED)).toBe(
      'https://app.pdeck.example/x',
    );
  });

  it.each([
    'https://app.pdeck.example.evil.example/',
    'https://evil.example/?https://app.pdeck.example',
    'http://app.pdeck.example/',
    'https://app.pdeck.example:8443/',
    'https://user:pw@app.pdeck.example/',
    'http://127.0.0.1:59990/',
    'javascript:alert(1)',
    '//app.pdeck.example/',
    'not a url',
  ])('refuses %s', (value) => {
    expect(() => checkReturnTo(value, ALLOWED)).toThrow(BadRequestException);
  });

  it('refuses everything when no origin is configured', () => {
    expect(() => checkReturnTo('https://app.pdeck.example/', [])).toThrow(BadRequestException);
  });
});

describe('returnToWith', () => {
  it('sets our parameters, replacing ones the caller chose', () => {
    expect(
      returnToWith('https://a.example/done?x=1&connectionId=old', { connectionId: 'c1' }),
    ).toBe('https://a.example/done?x=1&connectionId=c1');
  });
});
