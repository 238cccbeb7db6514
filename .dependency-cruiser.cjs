// The folder rules of src/ (docs/architecture.md, "Folders and their imports"), checked by
// `npm run lint:deps` in CI and by test/unit/dependency-rules.test.ts. Type-only imports count
// like any other: a folder that names another's type depends on it.

/** The data flow: a folder may import the folders before it, never one after it. */
const FLOW = ['ingest', 'queue', 'batching', 'tokenize', 'inference', 'results', 'storage', 'stats'];
/**
 * Shared folders, importable by every folder; in this order, each imports only those before it
 * (and none of FLOW, training, dev or app). contracts imports nothing but zod.
 */
const SHARED = ['contracts', 'errors', 'auth', 'config', 'logging', 'lifecycle', 'http', 'model-format'];
/** training: model tooling (the CLI's train/eval); dev: npm start's local redis-server; app: composition. */
const TOOLING_IN_SRC = ['training', 'dev'];
const KNOWN = [...SHARED, ...FLOW, ...TOOLING_IN_SRC, 'app'];

const folders = (names) => `^src/(${names.join('|')})/`;
const PRODUCT = '^(src|bin|workers|producer|packages/client/src|dashboard/src)/';

const flowOrder = FLOW.slice(0, -1).map((folder, i) => ({
  name: `flow-order-${folder}`,
  comment: `${folder} is at step ${i + 1} of the data flow (${FLOW.join(' → ')}): it must not import a later step. Pass what it needs in from src/app, or move the shared type to src/contracts.`,
  severity: 'error',
  from: { path: `^src/${folder}/` },
  to: { path: folders(FLOW.slice(i + 1)) },
}));

const sharedOrder = SHARED.map((folder, i) => ({
  name: `shared-order-${folder}`,
  comment: `${folder} is a shared folder: it may import only the shared folders before it (${SHARED.slice(0, i).join(', ') || 'none'}), never a flow folder, training, dev or app.`,
  severity: 'error',
  from: { path: `^src/${folder}/` },
  to: { path: folders([...SHARED.slice(i + 1), ...FLOW, ...TOOLING_IN_SRC, 'app']) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment:
        'Two folders import each other (perhaps through others). Move the shared part to a shared folder (src/contracts for wire types).',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'Two modules import each other (perhaps through others).',
      severity: 'error',
      from: { path: PRODUCT },
      to: { circular: true },
    },
    ...flowOrder,
    ...sharedOrder,
    {
      name: 'contracts-zod-only',
      comment:
        'src/contracts is compiled into the client package (packages/client): it may import only itself and zod.',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { pathNot: ['^src/contracts/', '^node_modules/zod/'] },
    },
    {
      name: 'training-is-tooling',
      comment: 'Nothing in the flow imports training/ (model tooling); only app/ (the CLI) does.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(training|app)/' },
      to: { path: '^src/training/' },
    },
    {
      name: 'training-imports',
      comment:
        'training/ may import the shared folders and batching, tokenize and inference (to evaluate a model as the workers run it), nothing later, nor dev or app.',
      severity: 'error',
      from: { path: '^src/training/' },
      to: { path: folders(['ingest', 'queue', 'results', 'storage', 'stats', 'dev', 'app']) },
    },
    {
      name: 'dev-only-from-app',
      comment: "dev/ (npm start's local redis-server) is wired by app/ only.",
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(dev|app)/' },
      to: { path: '^src/dev/' },
    },
    {
      name: 'dev-imports',
      comment: 'dev/ may import the shared folders only.',
      severity: 'error',
      from: { path: '^src/dev/' },
      to: { path: folders([...FLOW, 'training', 'app']) },
    },
    {
      name: 'app-is-composition',
      comment: 'app/ composes the processes; no other folder of src/ imports it (entrypoints outside src/ do).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/app/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'unknown-folder',
      comment: `A folder of src/ the rules do not know: add it to .dependency-cruiser.cjs and docs/architecture.md (known: ${KNOWN.join(', ')}).`,
      severity: 'error',
      from: { path: '^src/', pathNot: [folders(KNOWN), '^src/[^/]+$'] },
      to: {},
    },
    {
      name: 'no-loose-files-in-src',
      comment: 'Every module of src/ belongs to a folder.',
      severity: 'error',
      from: { path: '^src/[^/]+$' },
      to: {},
    },
    {
      name: 'product-not-tooling',
      comment:
        'Product code (what the build compiles and the image runs) never imports bench/, chaos/, fuzz/ or test/.',
      severity: 'error',
      from: { path: PRODUCT },
      to: { path: '^(bench|chaos|fuzz|test)/' },
    },
    {
      name: 'client-imports-contracts-only',
      comment: 'The client package compiles in src/contracts and nothing else of the server.',
      severity: 'error',
      from: { path: '^packages/client/src/' },
      to: { path: '^src/', pathNot: '^src/contracts/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The TypeScript 6 API (the `typescript` package; `tsc` is TypeScript 7, which has no API yet).
    parser: 'tsc',
  },
};
