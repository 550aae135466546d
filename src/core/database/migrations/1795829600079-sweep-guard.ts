import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SweepGuard1795829600079 implements MigrationInterface {
  name = 'SweepGuard1795829600079';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sync_states" ADD "pass_start_seq" bigint');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sync_states" DROP COLUMN "pass_start_seq"');
  }
}
