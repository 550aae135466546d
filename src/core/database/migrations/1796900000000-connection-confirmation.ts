import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connect flows end in a grant waiting for PDeck's confirmation: the encrypted pending grant, the
 * hash of its one-time token and its expiry (swept after 10 minutes).
 */
export class ConnectionConfirmation1796900000000 implements MigrationInterface {
  name = 'ConnectionConfirmation1796900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "connections" ADD "pending_grant" text');
    await queryRunner.query('ALTER TABLE "connections" ADD "confirm_token_hash" text');
    await queryRunner.query(
      'ALTER TABLE "connections" ADD "confirm_expires_at" TIMESTAMP WITH TIME ZONE',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_connections_confirm_expires" ON "connections" ("confirm_expires_at") WHERE "confirm_expires_at" IS NOT NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."ix_connections_confirm_expires"');
    await queryRunner.query('ALTER TABLE "connections" DROP COLUMN "confirm_expires_at"');
    await queryRunner.query('ALTER TABLE "connections" DROP COLUMN "confirm_token_hash"');
    await queryRunner.query('ALTER TABLE "connections" DROP COLUMN "pending_grant"');
  }
}
