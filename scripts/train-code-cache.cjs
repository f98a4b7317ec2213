// Preloaded by scripts/bundle.mjs (`node --require scripts/train-code-cache.cjs dist/cli/gopsctl.cjs ...`) for the
// bin's code-cache training runs: cli/bin.ts writes a V8 cache for each file it compiled when this is set. A global
// set by a preloaded file, not an environment variable, so no setting of a user's can make a run write.
globalThis.__gopsctlBin = { trainCodeCache: true };
