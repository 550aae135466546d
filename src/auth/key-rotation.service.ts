import type { RedisClient } from '../core/redis/redis-client.js';
import type { DataSource } from 'typeorm';
import {
  describePresence,
  processesLacking,
  readKeyPresence,
} from '../core/crypto/key-presence.js';
import { type EncryptionContext, Keyring } from '../core/crypto/keyring.js';

/** An encrypted column whose values are bound (AAD) to table, column and row id. */
interface EncryptedColumn {
  table: 'connections' | 'webhook_subscriptions';
  column: 'credentials' | 'secret';
}

/** Every column that holds secrets encrypted with ENCRYPTION_KEYS. */
export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { table: 'connections', column: 'credentials' },
  { table: 'webhook_subscriptions', column: 'secret' },
];

export interface RotationCounts {
  scanned: number;
  rotated: number;
  alreadyCurrent: number;
  /** Compare-and-swap attempts lost to a concurrent write (refresh, reconnect), then re-read. */
  retried: number;
  /** Rows that did not decrypt with any configured key, or kept changing; left untouched. */
  failed: number;
}

export interface RotationReport {
  primaryKid: string;
  total: RotationCounts;
  byColumn: Record<string, RotationCounts>;
  /** Ids of failed rows, so an operator can look at them (never their values). */
  failedIds: string[];
}

const PAGE_SIZE = 500;
const MAX_ATTEMPTS = 5;

/**
 * Re-encrypts every stored secret that is not yet under the primary key (ENCRYPTION_PRIMARY_KEY_ID,
 * else the first of ENCRYPTION_KEYS). Row by row with
 * compare-and-swap on the old ciphertext, so it runs safely next to live traffic: a row that a
 * refresh rewrote meanwhile is re-read (and usually already current). It needs only a DataSource
 * and a Keyring, so `npm run keys:rotate` uses it without booting the Nest application.
 */
export class KeyRotationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: Keyring,
  ) {}

  async rotateAll(): Promise<RotationReport> {
    const report: RotationReport = {
      primaryKid: this.keyring.primaryKid,
      total: emptyCounts(),
      byColumn: {},
      failedIds: [],
    };
    for (const target of ENCRYPTED_COLUMNS) {
      const counts = emptyCounts();
      await this.rotateColumn(target, counts, report.failedIds);
      report.byColumn[`${target.table}.${target.column}`] = counts;
      for (const key of Object.keys(counts) as (keyof RotationCounts)[]) {
        report.total[key] += counts[key];
      }
    }
    return report;
  }

  private async rotateColumn(
    target: EncryptedColumn,
    counts: RotationCounts,
    failedIds: string[],
  ): Promise<void> {
    // Keyset pagination on id: rows written during the run cannot shift the pages.
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: { id: string; value: string }[] = await this.dataSource.query(
        `SELECT id, "${target.column}" AS value FROM "${target.table}"
         WHERE "${target.column}" IS NOT NULL AND id > $1 ORDER BY id LIMIT ${PAGE_SIZE}`,
        [after],
      );
      for (const row of rows) {
        counts.scanned++;
        const outcome = await this.rotateRow(target, row.id, row.value, counts);
        counts[outcome]++;
        if (outcome === 'failed') failedIds.push(row.id);
      }
      if (rows.length < PAGE_SIZE) return;
      after = rows[rows.length - 1].id;
    }
  }

  private async rotateRow(
    target: EncryptedColumn,
    id: string,
    initial: string,
    counts: RotationCounts,
  ): Promise<'rotated' | 'alreadyCurrent' | 'failed'> {
    const aad: EncryptionContext = { table: target.table, column: target.column, rowId: id };
    let value: string | null = initial;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Wiped meanwhile (disconnect) or rewritten under the primary key (refresh): nothing to do.
      if (value === null || !this.needsRotation(value)) return 'alreadyCurrent';
      let plaintext: string;
      try {
        plaintext = this.keyring.decrypt(value, aad);
      } catch {
        return 'failed';
      }
      if (await this.swap(target, id, value, this.keyring.encrypt(plaintext, aad))) {
        return 'rotated';
      }
      counts.retried++;
      value = await this.readValue(target, id);
    }
    return 'failed';
  }

  private needsRotation(value: string): boolean {
    try {
      return this.keyring.needsRotation(value);
    } catch {
      return true; // malformed: let decrypt report it as failed
    }
  }

  private async swap(target: EncryptedColumn, id: string, old: string, next: string) {
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(
        `UPDATE "${target.table}" SET "${target.column}" = $3 WHERE id = $1 AND "${target.column}" = $2`,
        [id, old, next],
        true,
      );
      return result.affected === 1;
    } finally {
      await runner.release();
    }
  }

  private async readValue(target: EncryptedColumn, id: string): Promise<string | null> {
    const rows: { value: string | null }[] = await this.dataSource.query(
      `SELECT "${target.column}" AS value FROM "${target.table}" WHERE id = $1`,
      [id],
    );
    return rows[0]?.value ?? null;
  }
}

export interface RotationPreflight {
  /** Set when a running process could not read what the rotation writes: who and which key. */
  problem?: string;
  /** What the check saw, for the operator (one line each). */
  notes: string[];
}

/**
 * The check `keys:rotate` runs first: every running process (api and worker, as published in
 * Redis by KeyPresencePublisher) must be able to decrypt the key the rotation writes with, else
 * the rows the rotation rewrites become unreadable to that process (a rolling restart not
 * finished, a forgotten host). Throws when Redis cannot be read: no answer is not a yes.
 */
export async function preflightRotation(
  redis: RedisClient,
  prefix: string,
  keyring: Keyring,
): Promise<RotationPreflight> {
  const live = await readKeyPresence(redis, prefix);
  const target = keyring.primaryKid;
  const lacking = processesLacking(live, [target]);
  if (lacking.length > 0) {
    const who = lacking
      .map(({ process }) => `${describePresence(process)} (process ${process.processId})`)
      .join(', ');
    const n = lacking.length;
    return {
      problem: `${n} running process${n === 1 ? '' : 'es'} cannot decrypt key "${target}": ${who}`,
      notes: [],
    };
  }
  const notes = [
    live.length === 0
      ? 'No running process has published its key ids (none running, or none reached Redis).'
      : `${live.length === 1 ? 'The 1 running process' : `All ${live.length} running processes`} can decrypt key "${target}".`,
  ];
  const other = live.filter((p) => p.primaryKid !== target);
  if (other.length > 0) {
    const kids = [...new Set(other.map((p) => `"${p.primaryKid}"`))].join(', ');
    notes.push(
      `Note: ${other.length} running ${other.length === 1 ? 'process still encrypts' : 'processes still encrypt'} with ${kids}: promote "${target}" (ENCRYPTION_PRIMARY_KEY_ID) everywhere, then run keys:rotate again before removing the old key.`,
    );
  }
  return { notes };
}

function emptyCounts(): RotationCounts {
  return { scanned: 0, rotated: 0, alreadyCurrent: 0, retried: 0, failed: 0 };
}
