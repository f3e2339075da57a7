/** The one list of encodings this service speaks (schemas, the engine and the table build all read it). */
export const ENCODING_NAMES = ['cl100k_base', 'o200k_base', 'p50k_base', 'r50k_base'] as const;
export type EncodingName = (typeof ENCODING_NAMES)[number];

/** Accepted names besides the canonical ones: tiktoken's alias `gpt2` for r50k_base. */
export const ENCODING_ALIASES = { gpt2: 'r50k_base' } as const satisfies Record<string, EncodingName>;
export const ACCEPTED_ENCODING_NAMES = [...ENCODING_NAMES, ...(Object.keys(ENCODING_ALIASES) as 'gpt2'[])] as const;
