import { createHash } from 'node:crypto';

/** A caller's id as stored: a hash, so table keys never hold a raw principal id (and any id is a valid key). */
export const ownerKey = (userId: string) => createHash('sha256').update(userId).digest('hex').slice(0, 40);
