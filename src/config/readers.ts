// The config readers, in two files: toolkit.ts (Section, readers and checks:
// a leaf config/ and acl/ share) and values.ts (popgate's value types).
// Import from either; this file only gathers them.

export * from './toolkit.js'
export * from './values.js'
