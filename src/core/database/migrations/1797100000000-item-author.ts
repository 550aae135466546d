import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who an item is from, in words: a message's author (Slack). Null where a provider does not
 * say or does not fill it.
 */
export class ItemAuthor1797100000000 implements MigrationInterface {
  name = 'ItemAuthor1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "items" ADD "author" text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "items" DROP COLUMN "author"');
  }
}
