/**
 * The in-process rows' workers (worker.ts, peers-worker.ts) bundled for plain `node`, the way
 * `npm run build` bundles the CLI (Vite, dependencies left in node_modules): run under tsx, each
 * worker also held tsx's loader and the TypeScript it had compiled, which counted in its peak RSS
 * though no user ever runs it. The engine's code is the same either way.
 */
import { resolve } from 'node:path'
import { build } from 'vite'

const root = resolve(__dirname, '..')

/** Builds `<outDir>/worker.cjs` and `<outDir>/peers-worker.cjs`; returns their paths. */
export async function buildWorkers(
  outDir: string,
): Promise<{ worker: string; peersWorker: string }> {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: {
      // SSR: a Node bundle whose node_modules imports stay require()s.
      ssr: true,
      outDir,
      emptyOutDir: true,
      minify: false,
      target: 'node20',
      rollupOptions: {
        input: {
          worker: resolve(root, 'bench/worker.ts'),
          'peers-worker': resolve(root, 'bench/peers-worker.ts'),
        },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  })
  return { worker: resolve(outDir, 'worker.cjs'), peersWorker: resolve(outDir, 'peers-worker.cjs') }
}
