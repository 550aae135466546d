import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-resource outcomes of a sync run: why a run ended `partial`, and what failed where. */
export class SyncRunResources1796400000000 implements MigrationInterface {
  name = 'SyncRunResources1796400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sync_runs" ADD "resources" jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sync_runs" DROP COLUMN "resources"');
  }
}
