import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The operator console's audit log: every action taken in /admin, by token id. */
export class AdminAudit1797300000000 implements MigrationInterface {
  name = 'AdminAudit1797300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "admin_audit" ("id" uuid NOT NULL, "token_id" text NOT NULL, "action" text NOT NULL, "connection_id" uuid, "detail" jsonb NOT NULL DEFAULT '{}', "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_admin_audit" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      'CREATE INDEX "ix_admin_audit_connection_at" ON "admin_audit" ("connection_id", "at") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."ix_admin_audit_connection_at"');
    await queryRunner.query('DROP TABLE "admin_audit"');
  }
}
