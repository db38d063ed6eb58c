import test from 'ava';
import { Kernel } from '../../src/index.js';

type Inside = { machine: { image: { functions: { length: number }; api: { memory: WebAssembly.Memory } } } };
const image = (k: Kernel) => (k as unknown as Inside).machine.image;

test('a recycled instance carries nothing of the previous kernel into the next one', (t) => {
  const first = Kernel.boot();
  first.exec('secret = "s3cr3t"; printk("first kernel")');
  const firstImage = image(first);
  t.deepEqual(first.shutdown().leaks, []);
  const second = Kernel.boot();
  t.is(image(second), firstImage, 'the same geometry reuses the instance');
  t.is(second.exec('return secret').value, '');
  t.false(second.dmesg().some((r) => r.text.includes('first kernel')));
  t.is(second.exec('return type({ 123 })').value, 'table');
  second.shutdown();
});

test('booting and shutting down 200 kernels grows neither the function table nor the memory', (t) => {
  Kernel.boot().shutdown();
  const probe = Kernel.boot();
  const { functions, api } = image(probe);
  const slots = functions.length;
  const bytes = api.memory.buffer.byteLength;
  probe.shutdown();
  for (let i = 0; i < 200; i++) {
    const k = Kernel.boot();
    k.exec(`x = ${i} return x`);
    k.shutdown();
  }
  const last = Kernel.boot();
  t.is(image(last).functions.length, slots);
  t.is(image(last).api.memory.buffer.byteLength, bytes);
  last.shutdown();
});

test('an instance that panicked is never recycled', (t) => {
  const k = Kernel.boot();
  const trap = { name: 'trap', init(ctx: { function(name: string, fn: () => number): void }) { ctx.function('trap', () => { throw new WebAssembly.RuntimeError('unreachable'); }); } };
  t.is(k.insmod(trap as never), 0);
  const before = image(k);
  t.regex(k.exec('trap()').error ?? '', /kernel panic/);
  t.is(k.exec('return 2').value, '2');
  t.not(image(k), before);
  k.shutdown();
  const next = Kernel.boot();
  const other = Kernel.boot();
  t.not(image(next), before);
  t.not(image(other), before);
  next.shutdown();
  other.shutdown();
});
