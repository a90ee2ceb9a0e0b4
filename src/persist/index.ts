/**
 * Durable state: the controller's belief about the cell and a write-ahead log of motion intents,
 * kept across crashes and power loss (docs/persistence.md). Never a statechart snapshot: the
 * machines always boot fresh.
 */
export type { DurableStore, Intent, OpenIntent, OpenResult, Outcome, PersistedBelief, SettledIntent, StoreExpectation } from './types.js';
export { OUTCOMES, SETTLING_OUTCOMES } from './types.js';
export { openFileStore, type FileStoreOptions } from './fileStore.js';
export { MemoryStore, type MemoryDisk, type StoreCall } from './memoryStore.js';
export { nodeStoreFs, type StoreFile, type StoreFs } from './storeFs.js';
export { MemoryFs, type FsOp } from './memoryFs.js';
export { BELIEF_FILE, LOG_FILE, SET_ASIDE_DIR } from './format.js';
