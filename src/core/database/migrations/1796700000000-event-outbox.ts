import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox of notifications to PDeck (written with the items they describe,
 * relayed to the queue after commit), the subscribe attempts of webhook subscriptions
 * (in-flight calls, and failures with their backoff and reason), and an index to find the
 * subscriptions watching a resource (every Trello delivery looks them up).
 */
export class EventOutbox1796700000000 implements MigrationInterface {
  name = 'EventOutbox1796700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE SEQUENCE "event_outbox_seq" AS bigint');
    await queryRunner.query(
      'CREATE TABLE "event_outbox" ("id" text NOT NULL, "seq" bigint NOT NULL, "type" text NOT NULL, "data" jsonb NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_event_outbox" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "ix_event_outbox_seq" ON "event_outbox" ("seq") ');
    await queryRunner.query(
      'CREATE TABLE "webhook_subscribe_attempts" ("connection_id" uuid NOT NULL, "resource_id" text NOT NULL, "provider" text NOT NULL, "callback_url" text NOT NULL, "status" text NOT NULL, "failures" integer NOT NULL DEFAULT \'0\', "last_error" text, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "next_attempt_at" TIMESTAMP WITH TIME ZONE, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_webhook_subscribe_attempts" PRIMARY KEY ("connection_id", "resource_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_subscribe_attempts_resource" ON "webhook_subscribe_attempts" ("provider", "resource_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_subscriptions_resource" ON "webhook_subscriptions" ("provider", "resource_id") ',
    );
    await queryRunner.query(
      'ALTER TABLE "webhook_subscribe_attempts" ADD CONSTRAINT "fk_webhook_subscribe_attempts_connection" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "webhook_subscribe_attempts" DROP CONSTRAINT "fk_webhook_subscribe_attempts_connection"',
    );
    await queryRunner.query('DROP INDEX "public"."ix_webhook_subscriptions_resource"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_subscribe_attempts_resource"');
    await queryRunner.query('DROP TABLE "webhook_subscribe_attempts"');
    await queryRunner.query('DROP INDEX "public"."ix_event_outbox_seq"');
    await queryRunner.query('DROP TABLE "event_outbox"');
    await queryRunner.query('DROP SEQUENCE "event_outbox_seq"');
  }
}
