import { describe, expect, it } from 'vitest';
import { describeQueryError, elideValues } from './query-logger.js';

describe('describeQueryError', () => {
  it('keeps the code and the names involved, never the detail or the parameters', () => {
    const error = Object.assign(
      new Error('duplicate key value violates unique constraint "uq_x"'),
      {
        code: '23505',
        constraint: 'uq_x',
        table: 'items',
        detail: 'Key (external_id)=(secret-value) already exists.',
        parameters: ['secret-value'],
      },
    );
    expect(describeQueryError(error)).toEqual({
      error: 'duplicate key value violates unique constraint "uq_x"',
      errorCode: '23505',
      constraint: 'uq_x',
      table: 'items',
    });
  });

  it('elides the input value Postgres quotes at the end of a message', () => {
    expect(elideValues('invalid input syntax for type uuid: "tok-123"')).toBe(
      'invalid input syntax for type uuid: "[value elided]"',
    );
    expect(elideValues('relation "items" does not exist')).toBe('relation "items" does not exist');
  });
});
