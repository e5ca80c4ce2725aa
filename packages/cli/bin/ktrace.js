#!/usr/bin/env node
// Committed entry point, so npm links `ktrace` at install time, before the first build. It runs the bundle
// (scripts/bundle.mjs), which starts faster than dist/main.js's forty modules.
import '../dist/bundle/main.js';
