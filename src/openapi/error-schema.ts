import * as z from 'zod/mini';
import type { ErrorType } from '../http/errors.js';

const errorTypes = [
  'invalid_request_error',
  'authentication_error',
  'not_found_error',
  'conflict_error',
  'rate_limit_error',
  'upstream_error',
  'service_unavailable',
  'server_error',
] as const satisfies readonly ErrorType[];

// Fails to typecheck when errors.ts gains a type this list lacks, so the document cannot drift from the code.
type Missing = Exclude<ErrorType, (typeof errorTypes)[number]>;
const everyErrorTypeListed: [Missing] extends [never] ? true : Missing = true;
void everyErrorTypeListed;

/** The one error body every 4xx/5xx answer has (ApiError.toBody(), and the host's own 404/405/413). */
export const errorBodySchema = z
  .object({
    error: z.object({
      message: z.string().register(z.globalRegistry, { description: 'What went wrong, for a human.' }),
      type: z.enum(errorTypes),
      param: z.nullable(z.string()).register(z.globalRegistry, {
        description: "The request field at fault in OpenAI's notation (`messages[0].content`), or null.",
      }),
      code: z.nullable(z.string()).register(z.globalRegistry, {
        description:
          'A stable machine-readable code (`invalid_value`, `missing_required_parameter`, `not_found`, …), or null.',
      }),
    }),
  })
  .register(z.globalRegistry, { description: "OpenAI's error shape: all four keys are always present." });
