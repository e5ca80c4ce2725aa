#!/usr/bin/env node
// Committed entry point, so npm links `ktrace` at install time, before the first build.
import '../dist/main.js';
