/**
 * Builds `head + items.join(',') + tail` straight into one Buffer. For multi-megabyte pages this
 * is several times cheaper than a string join followed by UTF-8 encoding on the socket.
 * String items MUST be pure ASCII (generated JSON); anything else goes in as a UTF-8 Buffer.
 */
export function assembleJson(
  head: string,
  items: ReadonlyArray<string | Buffer>,
  tail: string,
): Buffer {
  const headBuf = Buffer.from(head);
  const tailBuf = Buffer.from(tail);
  let capacity = headBuf.length + tailBuf.length + items.length;
  for (const item of items) capacity += item.length;
  const out = Buffer.allocUnsafe(capacity);
  let offset = headBuf.copy(out, 0);
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out[offset++] = 0x2c; // ','
    const item = items[i];
    offset += typeof item === 'string' ? out.write(item, offset, 'latin1') : item.copy(out, offset);
  }
  offset += tailBuf.copy(out, offset);
  return out.subarray(0, offset);
}

/** JSON.stringify with every non-ASCII character escaped, so the result is safe for assembleJson. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
