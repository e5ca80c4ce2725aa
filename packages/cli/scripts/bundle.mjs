// Bundles the built CLI (dist/main.js) into dist/bundle/ with the parser and commander, so `ktrace parse`,
// `--version` and `--help` read a few files instead of about forty modules (start-up: docs/benchmarks.md).
// Each command stays its own chunk, loaded once it is known. Every other import stays one, resolved from
// node_modules as before and only in the commands that use it: @ktrace/core and @ktrace/exporter (which bring
// OpenTelemetry, the Kubernetes client and zod), yaml, @opentelemetry/api. So the bundle imports only what
// @ktrace/cli declares. The parser is stateless and its errors are recognised by name (isKtraceError), so the copy
// that core loads beside the bundle's in `run` and `agent` behaves the same.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// core's two dependency-free exports are what --help and `run`'s target check read: bundled too.
const bundled = /^(@ktrace\/parser(\/|$)|@ktrace\/core\/(kubernetes-defaults|one-shot-target)$|commander$)/;
// Chunk names carry a hash: start empty, or the chunks of earlier builds pile up (and ship in the tarball).
rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['dist/main.js'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // commander is CommonJS: its require() of node built-ins needs a real require in an ES module.
  banner: {
    js: "import { createRequire as __ktraceCreateRequire } from 'node:module';\nconst require = __ktraceCreateRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'bundle-parser-and-commander',
      setup(on) {
        on.onResolve({ filter: /^[^./]/ }, (args) =>
          bundled.test(args.path) ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
