// Many tenants in one process: hundreds of live kernels, each its own state, and boot plus
// shutdown giving back what a kernel took. Counts, not timings (bench/density/ has those).
// 300 kernels: enough to show states never mix, few enough for CI with an image whose
// memory starts at 16 MiB (each boot then costs V8 that much external memory).
import test from 'ava';
import { Kernel } from '../../src/index.js';
import { poolMemoryStats } from '../../src/memory/pool-memory.js';

test.serial('300 live kernels: each answers its call and keeps its own global; none sees another\'s', (t) => {
  const kernels: Kernel[] = [];
  for (let i = 0; i < 300; i++) {
    const kernel = Kernel.boot();
    const r = kernel.exec(`tenant = "tenant ${i}" return tenant`);
    if (r.value !== `tenant ${i}`) t.fail(`kernel ${i} answered ${JSON.stringify(r)}`);
    kernels.push(kernel);
  }
  t.deepEqual(kernels[0]!.exec('only_here = "kernel 0" return only_here'), { rc: 8, value: 'kernel 0' });
  let own = 0;
  let foreign = 0;
  kernels.forEach((kernel, i) => {
    if (kernel.exec('return tenant').value === `tenant ${i}`) own++;
    if (i > 0 && kernel.exec('return tostring(only_here)').value !== 'nil') foreign++;
  });
  t.is(own, 300);
  t.is(foreign, 0);
  for (const kernel of kernels) if (kernel.shutdown().leaks.length !== 0) t.fail('a kernel leaked at shutdown');
});

test.serial('boot and shutdown give the pools\' bookkeeping back: rounds of 30 kernels do not grow it', (t) => {
  const round = (): void => {
    const kernels = Array.from({ length: 30 }, (_, i) => {
      const kernel = Kernel.boot();
      kernel.exec(`t = {} for j = 1, ${100 * (i + 1)} do t[j] = { j } end`);
      return kernel;
    });
    for (const kernel of kernels) kernel.shutdown();
  };
  round();
  const first = poolMemoryStats();
  for (let i = 0; i < 3; i++) round();
  t.deepEqual(poolMemoryStats(), first, 'every block the later rounds took came back');
});
