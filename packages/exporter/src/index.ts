// Public API of @ktrace/exporter.
export {};
