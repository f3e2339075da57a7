/** Moved to src/upstream/ (the upstream-provider seam); this re-export keeps older imports working. */
export * from '../upstream/index.js';
