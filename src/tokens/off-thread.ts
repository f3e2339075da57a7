/**
 * Texts at least this long (UTF-16 units, all texts of one job together) are tokenized in the worker pool
 * (worker.ts). Its own module, without imports, so the deployed entry can read it without loading the pool.
 */
export const OFF_THREAD_CHARS = 64 * 1024;
