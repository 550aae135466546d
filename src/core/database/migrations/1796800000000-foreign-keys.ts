import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Child table, its column, the parent and the constraint's name (also declared on the entities). */
const FOREIGN_KEYS = [
  ['sync_states', 'connection_id', 'connections', 'fk_sync_states_connection'],
  ['sync_runs', 'connection_id', 'connections', 'fk_sync_runs_connection'],
  ['items', 'connection_id', 'connections', 'fk_items_connection'],
  ['webhook_subscriptions', 'connection_id', 'connections', 'fk_webhook_subscriptions_connection'],
  ['item_links', 'item_id', 'items', 'fk_item_links_item'],
  ['item_links', 'linked_item_id', 'items', 'fk_item_links_linked_item'],
] as const;

/**
 * Foreign keys with ON DELETE CASCADE from every row that belongs to a connection (sync states,
 * sync runs, items, webhook subscriptions) to `connections`, and from `item_links` to `items`.
 * Nothing the service does today is changed by them: a disconnect keeps the connection row
 * (status `disconnected`) and its items as tombstones (purged only with purgeItems), so nothing
 * cascades then; the rows that are deleted (an unconfirmed `pending` connection, a purged item)
 * take their dependents with them instead of leaving orphans.
 *
 * `webhook_deliveries` has none on purpose: a delivery is stored before it is routed, may match
 * no connection or several (`connection_ids` is an array), and retention and purges delete it.
 *
 * Rows that already lost their parent in an older database are deleted first. The migration runs
 * outside a transaction so that validating the constraints on a large `items` table does not
 * block writers: each constraint is added NOT VALID (checked for new rows from then on), the
 * orphans written meanwhile are deleted again, then VALIDATE scans the existing rows under a lock
 * that lets reads and writes go on. Every step can be repeated, so an interrupted run is resumed
 * by the next start.
 */
export class ForeignKeys1796800000000 implements MigrationInterface {
  name = 'ForeignKeys1796800000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // Cascades from items look item_links up by either column; item_id leads the unique pair.
    await queryRunner.query(
      'CREATE INDEX IF NOT EXISTS "ix_item_links_linked_item" ON "item_links" ("linked_item_id") ',
    );
    await deleteOrphans(queryRunner);
    for (const [table, column, parent, name] of FOREIGN_KEYS) {
      const [existing] = await queryRunner.query(
        'SELECT 1 FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass',
        [name, table],
      );
      if (!existing) {
        await queryRunner.query(
          `ALTER TABLE "${table}" ADD CONSTRAINT "${name}" FOREIGN KEY ("${column}") REFERENCES "${parent}"("id") ON DELETE CASCADE ON UPDATE NO ACTION NOT VALID`,
        );
      }
    }
    // Orphans written between the first cleanup and the constraints (an older process still
    // running during a rolling deploy); none can appear from here on.
    await deleteOrphans(queryRunner);
    for (const [table, , , name] of FOREIGN_KEYS) {
      await queryRunner.query(`ALTER TABLE "${table}" VALIDATE CONSTRAINT "${name}"`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, , , name] of [...FOREIGN_KEYS].reverse()) {
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT IF EXISTS "${name}"`);
    }
    await queryRunner.query('DROP INDEX IF EXISTS "public"."ix_item_links_linked_item"');
  }
}

/** Rows whose parent no longer exists: children of connections first, then links of items. */
async function deleteOrphans(queryRunner: QueryRunner): Promise<void> {
  for (const [table, column, parent] of FOREIGN_KEYS) {
    await queryRunner.query(
      `DELETE FROM "${table}" t WHERE NOT EXISTS (SELECT 1 FROM "${parent}" p WHERE p."id" = t."${column}")`,
    );
  }
}
