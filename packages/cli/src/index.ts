// Public API of @ktrace/cli: none; the package is the `ktrace` command.
export {};
