/**
 * Runs a bounded statement (one that touches at most `batch` rows and says how many it touched)
 * until a round touches fewer: large cleanups as many short transactions, so none holds row locks
 * or bloats a snapshot for long. `onBatch` sees each round's count (progress metrics).
 */
export async function inBatches(
  step: (batch: number) => Promise<number>,
  batch: number,
  onBatch?: (count: number) => void,
): Promise<number> {
  let total = 0;
  for (;;) {
    const count = await step(batch);
    total += count;
    if (count > 0) onBatch?.(count);
    if (count < batch) return total;
  }
}
