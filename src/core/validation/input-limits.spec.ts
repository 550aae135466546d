import { BadRequestException } from '@nestjs/common';
import { validate } from 'class-validator';
import { describe, expect, it } from 'vitest';
import {
  BoundedValidationPipe,
  MAX_INPUT_DEPTH,
  nestedDeeperThan,
  NoNulCharacter,
} from './input-limits.js';

const nest = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);

describe('nestedDeeperThan', () => {
  it('counts object and array levels, scalars are level-free', () => {
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan({ a: 1 }, 1)).toBe(false);
    expect(nestedDeeperThan({ a: { b: [1] } }, 2)).toBe(true);
    expect(nestedDeeperThan({ a: { b: [1] } }, 3)).toBe(false);
    expect(nestedDeeperThan(nest(MAX_INPUT_DEPTH), MAX_INPUT_DEPTH)).toBe(false);
    expect(nestedDeeperThan(nest(MAX_INPUT_DEPTH + 1), MAX_INPUT_DEPTH)).toBe(true);
  });

  it('walks 100 000 levels without recursion', () => {
    expect(nestedDeeperThan(nest(100_000), MAX_INPUT_DEPTH)).toBe(true);
  });
});

class Dto {
  @NoNulCharacter('userId')
  userId!: string;
}

describe('BoundedValidationPipe', () => {
  const pipe = new BoundedValidationPipe({ whitelist: true, forbidNonWhitelisted: true });

  it('refuses a 20 000-level body with a 400 instead of overflowing the stack', async () => {
    const body = { userId: 'u', x: nest(20_000) };
    await expect(pipe.transform(body, { type: 'body', metatype: Dto })).rejects.toBeInstanceOf(
      BadRequestException,
    );
  });

  it('lets ordinary input through to validation', async () => {
    await expect(pipe.transform({ userId: 'u' }, { type: 'body', metatype: Dto })).resolves.toEqual(
      { userId: 'u' },
    );
  });
});

describe('NoNulCharacter', () => {
  it('refuses a NUL anywhere in the field, accepts other text', async () => {
    const check = async (userId: string) =>
      (await validate(Object.assign(new Dto(), { userId }))).length;
    expect(await check('user-42 ü \t')).toBe(0);
    expect(await check('u\u0000')).toBe(1);
    expect(await check('\u0000')).toBe(1);
  });
});
