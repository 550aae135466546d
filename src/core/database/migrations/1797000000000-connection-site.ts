import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Providers whose grant reaches several sites (Jira Cloud): the chosen site's id (not secret; the
 * site's URL and name stay in the encrypted credentials) and why a confirmed connection is still
 * pending (`site_required` until a site is chosen).
 */
export class ConnectionSite1797000000000 implements MigrationInterface {
  name = 'ConnectionSite1797000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "connections" ADD "site_id" text');
    await queryRunner.query('ALTER TABLE "connections" ADD "pending_reason" text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "connections" DROP COLUMN "pending_reason"');
    await queryRunner.query('ALTER TABLE "connections" DROP COLUMN "site_id"');
  }
}
