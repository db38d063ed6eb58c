// lunatik-wasm's default kernel: Kernel.boot() then one exec of the workload.
import { type Adapter, Unavailable } from './types.js';
import { create, execute, loadLunatik } from './lunatik-api.js';

/** Shared by the default and the budgeted kernel: they differ only in boot options. */
export function kernelAdapter(options?: object): Adapter {
  return async (source) => {
    const { Kernel } = await loadLunatik();
    if (!Kernel || typeof Kernel.boot !== 'function') throw new Unavailable('Kernel.boot is not exported');
    const t0 = performance.now();
    const kernel = await create('Kernel.boot', () => Kernel.boot(options));
    const createMs = performance.now() - t0;
    try {
      const t1 = performance.now();
      const result = await execute(kernel, source);
      return { result, ms: performance.now() - t1, createMs };
    } finally {
      kernel.shutdown();
    }
  };
}

export const run: Adapter = kernelAdapter();
