import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention of webhook deliveries: a finished row's body can be stripped (NULL), the connections a
 * delivery was routed to are recorded (purge on disconnect), and the retention statements find
 * their rows by index instead of scanning the inbox.
 */
export class WebhookRetention1796600000000 implements MigrationInterface {
  name = 'WebhookRetention1796600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "webhook_deliveries" ALTER COLUMN "body" DROP NOT NULL');
    await queryRunner.query(
      `ALTER TABLE "webhook_deliveries" ADD "connection_ids" uuid array NOT NULL DEFAULT '{}'`,
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_deliveries_processed" ON "webhook_deliveries" ("processed_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_deliveries_processed_with_body" ON "webhook_deliveries" ("processed_at") WHERE "body" IS NOT NULL',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_deliveries_connection_ids" ON "webhook_deliveries" USING gin ("connection_ids") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."ix_webhook_deliveries_connection_ids"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_deliveries_processed_with_body"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_deliveries_processed"');
    await queryRunner.query('ALTER TABLE "webhook_deliveries" DROP COLUMN "connection_ids"');
    await queryRunner.query(`UPDATE "webhook_deliveries" SET "body" = '' WHERE "body" IS NULL`);
    await queryRunner.query('ALTER TABLE "webhook_deliveries" ALTER COLUMN "body" SET NOT NULL');
  }
}
