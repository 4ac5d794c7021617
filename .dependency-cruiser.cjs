// The import rules of lib/, checked by test/architecture/import-graph.test.ts (dependency-cruiser).
// Sources are parsed with swc so `import type` counts: a cycle or a layer crossed through
// types alone still couples the files.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles under lib/, types included.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'core-is-framework-free',
      comment: 'lib/core runs without Nest, Redis, SQS, configuration schemas or the CLI.',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: { path: '^lib/(config|nest|redis|sqs|cli|runtime)/' },
    },
    {
      name: 'core-uses-node-only',
      comment: 'lib/core depends on Node itself and nothing installed.',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'config-only-core',
      comment: 'lib/config validates and layers settings: it knows the core, nothing built on it.',
      severity: 'error',
      from: { path: '^lib/config/' },
      to: { path: '^lib/(nest|redis|sqs|cli|runtime)/' },
    },
    {
      name: 'cli-only-core-and-config',
      comment: 'The CLI runs without Nest and without a Redis or SQS client.',
      severity: 'error',
      from: { path: '^lib/cli/' },
      to: { path: '^lib/(nest|redis|sqs|runtime)/' },
    },
    {
      name: 'stores-not-nest',
      comment: 'The Redis and SQS stores are usable without Nest and know nothing of the CLI.',
      severity: 'error',
      from: { path: '^lib/(redis|sqs)/' },
      to: { path: '^lib/(nest|cli)/' },
    },
    {
      name: 'nobody-imports-the-cli',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/cli/' },
      to: { path: '^lib/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
