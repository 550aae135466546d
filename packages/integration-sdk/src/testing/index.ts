/** The contract test kit: one suite every integration runs against its own sandbox fake. */
export * from './contract-kit.js';
export * from './eventually.js';
