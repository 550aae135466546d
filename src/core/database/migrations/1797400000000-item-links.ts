import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cross-source links (docs/cross-source.md): `item_links` gains its owner, confidence, origin and
 * evidence; new tables for the detector's evidence, the pairs users split, its per-user cursors,
 * the users whose items were deleted for good, and the merged entries with their own change
 * sequence and their inverse (which entry each item is in).
 *
 * Rows already in `item_links` (nothing wrote them before this) are kept as manual links once
 * normalized: smaller id first, one row per pair, both items of one user, never an item with
 * itself.
 *
 * The trigger on `items`: a purge deletes items outright (no tombstone, no change_seq), which the
 * detector's cursor cannot see. The trigger notes the users concerned in `link_rechecks`, and the
 * detector repairs their entries. A statement trigger with a transition table: one insert per
 * statement, not per row, and nothing at all on the insert and update path of items.
 */
export class ItemLinks1797400000000 implements MigrationInterface {
  name = 'ItemLinks1797400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "item_links" ADD "user_id" text, ADD "confidence" double precision, ADD "origin" text, ADD "evidence" jsonb NOT NULL DEFAULT '{"matches": []}', ADD "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()`,
    );
    await queryRunner.query(
      `DELETE FROM "item_links" l USING "items" a, "items" b
       WHERE a."id" = l."item_id" AND b."id" = l."linked_item_id"
         AND (a."user_id" <> b."user_id" OR l."item_id" = l."linked_item_id")`,
    );
    await queryRunner.query(
      `DELETE FROM "item_links" l USING "item_links" o
       WHERE l."item_id" > l."linked_item_id"
         AND o."item_id" = l."linked_item_id" AND o."linked_item_id" = l."item_id"`,
    );
    await queryRunner.query(
      `UPDATE "item_links" SET "item_id" = "linked_item_id", "linked_item_id" = "item_id"
       WHERE "item_id" > "linked_item_id"`,
    );
    await queryRunner.query(
      `UPDATE "item_links" l SET "user_id" = i."user_id", "confidence" = 1, "origin" = 'manual'
       FROM "items" i WHERE i."id" = l."item_id"`,
    );
    await queryRunner.query(
      `ALTER TABLE "item_links" ALTER COLUMN "user_id" SET NOT NULL, ALTER COLUMN "confidence" SET NOT NULL, ALTER COLUMN "origin" SET NOT NULL`,
    );
    await queryRunner.query(
      'CREATE INDEX "ix_item_links_user" ON "item_links"  ("user_id", "id") ',
    );
    await queryRunner.query(
      `ALTER TABLE "item_links" ADD CONSTRAINT "ck_item_links_confidence" CHECK ("confidence" >= 0 AND "confidence" <= 1)`,
    );
    await queryRunner.query(
      `ALTER TABLE "item_links" ADD CONSTRAINT "ck_item_links_origin" CHECK ("origin" IN ('detected', 'manual'))`,
    );
    await queryRunner.query(
      `ALTER TABLE "item_links" ADD CONSTRAINT "ck_item_links_pair_order" CHECK ("item_id" < "linked_item_id")`,
    );

    await queryRunner.query(
      `CREATE TABLE "item_link_evidence" ("item_id" uuid NOT NULL, "key" text NOT NULL, "role" text NOT NULL, "user_id" text NOT NULL, "qualifier" text, CONSTRAINT "PK_item_link_evidence" PRIMARY KEY ("item_id", "key", "role"))`,
    );
    await queryRunner.query(
      'CREATE INDEX "ix_item_link_evidence_user_key" ON "item_link_evidence"  ("user_id", "key") ',
    );
    await queryRunner.query(
      `ALTER TABLE "item_link_evidence" ADD CONSTRAINT "fk_item_link_evidence_item" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );

    await queryRunner.query(
      `CREATE TABLE "item_link_rejections" ("item_id" uuid NOT NULL, "linked_item_id" uuid NOT NULL, "user_id" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_item_link_rejections_pair_order" CHECK ("item_id" < "linked_item_id"), CONSTRAINT "PK_item_link_rejections" PRIMARY KEY ("item_id", "linked_item_id"))`,
    );
    await queryRunner.query(
      'CREATE INDEX "ix_item_link_rejections_linked_item" ON "item_link_rejections"  ("linked_item_id") ',
    );
    await queryRunner.query(
      `ALTER TABLE "item_link_rejections" ADD CONSTRAINT "fk_item_link_rejections_item" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "item_link_rejections" ADD CONSTRAINT "fk_item_link_rejections_linked_item" FOREIGN KEY ("linked_item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );

    await queryRunner.query(
      `CREATE TABLE "link_cursors" ("user_id" text NOT NULL, "change_seq" bigint NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_link_cursors" PRIMARY KEY ("user_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "link_rechecks" ("id" uuid NOT NULL, "user_id" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_link_rechecks" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      'CREATE INDEX "ix_link_rechecks_user" ON "link_rechecks"  ("user_id") ',
    );
    await queryRunner.query(
      `CREATE FUNCTION "link_note_purged_items"() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO "link_rechecks" ("id", "user_id")
         SELECT gen_random_uuid(), "user_id" FROM purged GROUP BY "user_id";
         RETURN NULL;
       END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "tr_items_purged_link_recheck" AFTER DELETE ON "items"
       REFERENCING OLD TABLE AS purged FOR EACH STATEMENT
       EXECUTE FUNCTION "link_note_purged_items"()`,
    );

    await queryRunner.query('CREATE SEQUENCE "merged_change_seq" AS bigint');
    await queryRunner.query(
      `CREATE TABLE "merged_entries" ("id" uuid NOT NULL, "user_id" text NOT NULL, "member_ids" uuid array NOT NULL, "change_seq" bigint NOT NULL, "deleted_at" TIMESTAMP WITH TIME ZONE, "conflict_keys" text array NOT NULL DEFAULT '{}', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_merged_entries" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      'CREATE INDEX "ix_merged_entries_user_change_seq" ON "merged_entries"  ("user_id", "change_seq") ',
    );
    await queryRunner.query(
      `CREATE TABLE "merged_entry_members" ("item_id" uuid NOT NULL, "entry_id" uuid NOT NULL, "user_id" text NOT NULL, CONSTRAINT "PK_merged_entry_members" PRIMARY KEY ("item_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "merged_entry_members" ADD CONSTRAINT "fk_merged_entry_members_item" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "merged_entry_members"');
    await queryRunner.query('DROP TABLE "merged_entries"');
    await queryRunner.query('DROP SEQUENCE "merged_change_seq"');
    await queryRunner.query('DROP TRIGGER "tr_items_purged_link_recheck" ON "items"');
    await queryRunner.query('DROP FUNCTION "link_note_purged_items"()');
    await queryRunner.query('DROP TABLE "link_rechecks"');
    await queryRunner.query('DROP TABLE "link_cursors"');
    await queryRunner.query('DROP TABLE "item_link_rejections"');
    await queryRunner.query('DROP TABLE "item_link_evidence"');
    await queryRunner.query('ALTER TABLE "item_links" DROP CONSTRAINT "ck_item_links_pair_order"');
    await queryRunner.query('ALTER TABLE "item_links" DROP CONSTRAINT "ck_item_links_origin"');
    await queryRunner.query('ALTER TABLE "item_links" DROP CONSTRAINT "ck_item_links_confidence"');
    await queryRunner.query('DROP INDEX "public"."ix_item_links_user"');
    await queryRunner.query(
      'ALTER TABLE "item_links" DROP COLUMN "updated_at", DROP COLUMN "evidence", DROP COLUMN "origin", DROP COLUMN "confidence", DROP COLUMN "user_id"',
    );
  }
}
