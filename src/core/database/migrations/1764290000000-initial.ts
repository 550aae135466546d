import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764290000000 implements MigrationInterface {
  name = 'Initial1764290000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "connections" ("id" uuid NOT NULL, "user_id" text NOT NULL, "provider" text NOT NULL, "account_id" text NOT NULL, "account_label" text, "status" text NOT NULL DEFAULT 'active', "scopes" text array NOT NULL DEFAULT '{}', "credentials" text, "token_version" integer NOT NULL DEFAULT '0', "token_expires_at" TIMESTAMP WITH TIME ZONE, "settings" jsonb NOT NULL DEFAULT '{}', "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_connections" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_connections_provider_account" ON "connections" ("provider", "account_id") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_connections_user_provider_account" ON "connections" ("user_id", "provider", "account_id") `,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_connections_user_provider_account"`);
    await queryRunner.query(`DROP INDEX "public"."ix_connections_provider_account"`);
    await queryRunner.query(`DROP TABLE "connections"`);
  }
}
