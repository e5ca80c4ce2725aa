#!/usr/bin/env node
// The ktrace command line: argument parsing, rendering and exit codes over the SDK.
export {};
