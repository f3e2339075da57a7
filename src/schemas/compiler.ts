/** zod's schema compiler (~90 KB), in a module of its own so that only compiled.ts's dynamic import loads it. */
import * as z from 'zod/mini';

export const compileSchema = <S extends z.core.$ZodType>(schema: S): S => z.compile(schema);
