import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connection issues (one open row per connection and type, kept as history once resolved) and
 * connection pauses (beside the connection, so its status machine is untouched).
 */
export class ConnectionIssues1797200000000 implements MigrationInterface {
  name = 'ConnectionIssues1797200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "connection_issues" ("id" uuid NOT NULL, "connection_id" uuid NOT NULL, "user_id" text NOT NULL, "provider" text NOT NULL, "type" text NOT NULL, "status" text NOT NULL DEFAULT 'open', "muted" boolean NOT NULL DEFAULT false, "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "count" integer NOT NULL DEFAULT '1', "last_error" text, "note" text, "resolved_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_connection_issues" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_connection_issues_open" ON "connection_issues" ("connection_id", "type") WHERE "status" = 'open'`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_connection_issues_status_provider" ON "connection_issues" ("status", "provider", "id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "connection_issues" ADD CONSTRAINT "fk_connection_issues_connection" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `CREATE TABLE "connection_pauses" ("connection_id" uuid NOT NULL, "paused_at" TIMESTAMP WITH TIME ZONE, "paused_reason" text, "paused_by" text, "resumed_at" TIMESTAMP WITH TIME ZONE, "resumed_by" text, CONSTRAINT "PK_connection_pauses" PRIMARY KEY ("connection_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "connection_pauses" ADD CONSTRAINT "fk_connection_pauses_connection" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "connection_pauses"');
    await queryRunner.query('DROP TABLE "connection_issues"');
  }
}
