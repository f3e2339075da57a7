/**
 * A string property holds at most 32K UTF-16 code units (64 KiB) in Table Storage, so long texts are split
 * across numbered properties (`content0`, `content1`, …) and joined on read, byte for byte.
 */
export const MAX_PROPERTY_CHARS = 32_000;

export function splitText(text: string): string[] {
  const parts: string[] = [];
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + MAX_PROPERTY_CHARS);
    // Never cut between the halves of a surrogate pair.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}

export function packText(prefix: string, text: string): Record<string, string | number> {
  const parts = splitText(text);
  const entity: Record<string, string | number> = { [`${prefix}Parts`]: parts.length };
  parts.forEach((part, i) => (entity[`${prefix}${i}`] = part));
  return entity;
}

export function unpackText(prefix: string, entity: Record<string, unknown>): string {
  const count = Number(entity[`${prefix}Parts`] ?? 0);
  let text = '';
  for (let i = 0; i < count; i++) {
    const part = entity[`${prefix}${i}`];
    text += typeof part === 'string' ? part : '';
  }
  return text;
}
