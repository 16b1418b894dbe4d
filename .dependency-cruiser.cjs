/**
 * Folder layering of src/, checked by `npm run lint` (dependency-cruiser).
 * README "Layout" shows the same table. A folder may import:
 * - the kernel (vocabulary every layer shares; eslint narrows it further);
 * - folders of LOWER layers only (so folders cannot form a cycle), and at run
 *   time at most two layers down; a type-only import of a lower layer's
 *   interface (a sink it implements, a port it is handed) may reach further;
 * - nothing of the composition root.
 * Only the composition root (ROOT) imports across every layer.
 */
const KERNEL = ['domain', 'config', 'log', 'generated'];
const LAYERS = {
  client: 1,
  resilience: 1,
  db: 2,
  repositories: 3,
  health: 3,
  services: 4,
  alerting: 4,
  grpc: 5,
  seed: 5,
  events: 5,
  metrics: 6,
  tracing: 6,
  admin: 7,
};
/** The composition root: main.ts, app.ts and its lifecycle modules, the CLI commands (each its own small root), process setup. */
const ROOT = ['^src/(main|app|processSetup|crashHandlers|portInUse)\\.ts$', '^src/(app|cli)/'];
const folder = (names) => `^src/(${names.join('|')})/`;

const layerRules = Object.entries(LAYERS).flatMap(([name, layer]) => {
  const notAbove = Object.keys(LAYERS).filter((other) => other !== name && LAYERS[other] >= layer);
  const farBelow = Object.keys(LAYERS).filter((other) => LAYERS[other] < layer - 2);
  return [
    notAbove.length > 0 && {
      name: `layer-${name}`,
      comment: `${name} (layer ${layer}) imports only lower layers: ${notAbove.join(', ')} are not below it.`,
      severity: 'error',
      from: { path: `^src/${name}/` },
      to: { path: folder(notAbove) },
    },
    farBelow.length > 0 && {
      name: `reach-${name}`,
      comment: `${name} (layer ${layer}) calls at most two layers down; ${farBelow.join(', ')} only through a type-only import (or through the root).`,
      severity: 'error',
      from: { path: `^src/${name}/` },
      to: { path: folder(farBelow), dependencyTypesNot: ['type-only'] },
    },
  ].filter(Boolean);
});

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'Folders import in one direction only.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycle',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'kernel-imports-kernel',
      comment: `The kernel (${KERNEL.join(', ')}) imports nothing else of src/.`,
      severity: 'error',
      from: { path: folder(KERNEL) },
      to: { path: '^src/', pathNot: [folder(KERNEL), '^src/paths\\.ts$'] },
    },
    {
      name: 'only-root-imports-root',
      comment: 'Nothing outside the composition root imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: ROOT },
      to: { path: ROOT },
    },
    {
      name: 'folders-are-known',
      comment: 'Every folder of src/ has a layer (add new ones to LAYERS, KERNEL or ROOT, and to README "Layout").',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: [folder([...KERNEL, ...Object.keys(LAYERS)]), ...ROOT] },
      to: {},
    },
    {
      name: 'folders-are-known',
      severity: 'error',
      from: {},
      to: { path: '^src/[^/]+/', pathNot: [folder([...KERNEL, ...Object.keys(LAYERS)]), ...ROOT] },
    },
    ...layerRules,
  ],
  options: {
    includeOnly: '^src/',
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
  },
};
