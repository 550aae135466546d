import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DataModel1795827577874 implements MigrationInterface {
  name = 'DataModel1795827577874';

  async up(queryRunner: QueryRunner): Promise<void> {
    // change_seq of the changes feed: taken on every real change of an item (see ItemsRepository).
    await queryRunner.query('CREATE SEQUENCE "items_change_seq" AS bigint');
    await queryRunner.query(
      'CREATE TABLE "item_links" ("id" uuid NOT NULL, "item_id" uuid NOT NULL, "linked_item_id" uuid NOT NULL, "reason" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_item_links" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_item_links_pair" ON "item_links"  ("item_id", "linked_item_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "items" ("id" uuid NOT NULL, "user_id" text NOT NULL, "connection_id" uuid NOT NULL, "provider" text NOT NULL, "kind" text NOT NULL, "external_id" text NOT NULL, "container_id" text, "container_name" text, "title" text, "body" text, "status" text, "starts_at" TIMESTAMP WITH TIME ZONE, "ends_at" TIMESTAMP WITH TIME ZONE, "all_day" boolean NOT NULL DEFAULT false, "due_at" TIMESTAMP WITH TIME ZONE, "url" text, "assignees" text array NOT NULL DEFAULT \'{}\', "labels" text array NOT NULL DEFAULT \'{}\', "external_updated_at" TIMESTAMP WITH TIME ZONE, "external_version" text NOT NULL, "deleted_at" TIMESTAMP WITH TIME ZONE, "raw" jsonb NOT NULL DEFAULT \'{}\', "seen_generation" integer NOT NULL DEFAULT \'0\', "change_seq" bigint NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_items" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_items_connection_container" ON "items"  ("connection_id", "container_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_items_user_change_seq" ON "items"  ("user_id", "change_seq") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_items_connection_kind_external" ON "items"  ("connection_id", "kind", "external_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "sync_runs" ("id" uuid NOT NULL, "connection_id" uuid NOT NULL, "mode" text NOT NULL, "trigger" text NOT NULL DEFAULT \'manual\', "status" text NOT NULL DEFAULT \'queued\', "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "fetched" integer NOT NULL DEFAULT \'0\', "upserted" integer NOT NULL DEFAULT \'0\', "deleted" integer NOT NULL DEFAULT \'0\', "unchanged" integer NOT NULL DEFAULT \'0\', "error_code" text, "error_message" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_sync_runs" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_sync_runs_connection_created" ON "sync_runs"  ("connection_id", "created_at") ',
    );
    await queryRunner.query(
      'CREATE TABLE "sync_states" ("id" uuid NOT NULL, "connection_id" uuid NOT NULL, "resource_id" text NOT NULL, "resource_name" text, "cursor" jsonb, "stage" text NOT NULL DEFAULT \'full\', "status" text NOT NULL DEFAULT \'ok\', "generation" integer NOT NULL DEFAULT \'0\', "failure_count" integer NOT NULL DEFAULT \'0\', "next_run_at" TIMESTAMP WITH TIME ZONE, "last_success_at" TIMESTAMP WITH TIME ZONE, "last_error" text, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_sync_states" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_sync_states_connection_resource" ON "sync_states"  ("connection_id", "resource_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "webhook_deliveries" ("id" uuid NOT NULL, "provider" text NOT NULL, "delivery_id" text NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "status" text NOT NULL DEFAULT \'received\', "headers" jsonb NOT NULL DEFAULT \'{}\', "body" text NOT NULL, "attempts" integer NOT NULL DEFAULT \'0\', "processed_at" TIMESTAMP WITH TIME ZONE, "error" text, CONSTRAINT "PK_webhook_deliveries" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_deliveries_status_received" ON "webhook_deliveries"  ("status", "received_at") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_webhook_deliveries_provider_delivery" ON "webhook_deliveries"  ("provider", "delivery_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "webhook_subscriptions" ("id" uuid NOT NULL, "connection_id" uuid NOT NULL, "provider" text NOT NULL, "resource_id" text NOT NULL, "external_id" text NOT NULL, "external_resource_id" text, "secret" text, "callback_url" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE, "status" text NOT NULL DEFAULT \'active\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_webhook_subscriptions" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_subscriptions_expires" ON "webhook_subscriptions"  ("status", "expires_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_subscriptions_connection" ON "webhook_subscriptions"  ("connection_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_webhook_subscriptions_provider_external" ON "webhook_subscriptions"  ("provider", "external_id") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."uq_webhook_subscriptions_provider_external"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_subscriptions_connection"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_subscriptions_expires"');
    await queryRunner.query('DROP TABLE "webhook_subscriptions"');
    await queryRunner.query('DROP INDEX "public"."uq_webhook_deliveries_provider_delivery"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_deliveries_status_received"');
    await queryRunner.query('DROP TABLE "webhook_deliveries"');
    await queryRunner.query('DROP INDEX "public"."uq_sync_states_connection_resource"');
    await queryRunner.query('DROP TABLE "sync_states"');
    await queryRunner.query('DROP INDEX "public"."ix_sync_runs_connection_created"');
    await queryRunner.query('DROP TABLE "sync_runs"');
    await queryRunner.query('DROP INDEX "public"."uq_items_connection_kind_external"');
    await queryRunner.query('DROP INDEX "public"."ix_items_user_change_seq"');
    await queryRunner.query('DROP INDEX "public"."ix_items_connection_container"');
    await queryRunner.query('DROP TABLE "items"');
    await queryRunner.query('DROP INDEX "public"."uq_item_links_pair"');
    await queryRunner.query('DROP TABLE "item_links"');
    await queryRunner.query('DROP SEQUENCE "items_change_seq"');
  }
}
