// Public API of @ktrace/core.
export {};
