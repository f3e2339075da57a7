/**
 * Request schemas compiled once they are in steady use. zod's `compile` generates one parser for a whole schema
 * (a chat body parses ~4× faster than through the interpreted schema), but generating it takes ~10 ms, which no
 * cold start should pay: a schema is compiled after it has parsed COMPILE_AFTER bodies, on a later turn of the event
 * loop. (The compiler's code sits in the bundle's shared zod chunk, reachable through zod/mini's index: ~40 KB,
 * ~1-2 ms more to load, measured.) A schema the compiler cannot model stays interpreted;
 * a body the compiled parser rejects is parsed again by the interpreted schema, so errors read the same
 * (test/unit/compiled-schemas.test.ts compares the two on every request schema).
 */
import * as z from 'zod/mini';

const env = Number(process.env.SCHEMA_COMPILE_AFTER);
/** Parses before a schema is compiled (0: never). */
const COMPILE_AFTER = Number.isInteger(env) && env >= 0 ? env : 200;

interface Entry {
  parses: number;
  compiled?: z.core.$ZodType;
}
const entries = new WeakMap<z.core.$ZodType, Entry>();

/** The schema to parse with: its compiled form once there is one. */
export function schemaFor<S extends z.core.$ZodType>(schema: S): S {
  let entry = entries.get(schema);
  if (!entry) entries.set(schema, (entry = { parses: 0 }));
  if (entry.compiled) return entry.compiled as S;
  if (++entry.parses === COMPILE_AFTER) {
    const pending = entry;
    setImmediate(() => {
      try {
        pending.compiled = z.compile(schema);
      } catch {
        // stays interpreted (compile is documented never to throw; a schema it cannot model comes back as is)
      }
    });
  }
  return schema;
}
