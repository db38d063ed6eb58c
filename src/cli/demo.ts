/*
 * `npm start`: boots a kernel and walks through the sysLua contract with a few scripts,
 * printing each script, its return code and its value or errno, then the kernel log.
 */
import { Kernel, errnoName, formatRecord } from '../index.js';
import { versionLine } from './format.js';

interface Example {
  readonly title: string;
  readonly code: string;
  readonly note?: string;
}

const EXAMPLES: readonly Example[] = [
  {
    title: "lunatik-ng's README example",
    code: 'return type({ 123 })',
    note: 'lunatik-ng\'s README claims "number" here; Lua (and lunatik-ng\'s own type binding) give "table".',
  },
  { title: 'a string', code: 'return "hello, " .. "kernel"' },
  { title: 'a number', code: 'return 6 * 7' },
  { title: 'a global set by one script...', code: 'greeting = "globals persist"' },
  { title: '...is there for the next one (one persistent state per kernel)', code: 'return greeting' },
  { title: 'print goes to the kernel log, not to stdout', code: 'print("hello from Lua"); return nil' },
  { title: 'a syntax error', code: 'return 1 +' },
  { title: 'a runtime error', code: 'local t = nil; return t.field' },
  { title: 'a memory bomb (this kernel has a 16 MiB budget)', code: 'local s = "x"; while true do s = s .. s end' },
  { title: 'a table has no text form', code: 'return { 1, 2, 3 }' },
  { title: 'a loop is stopped by the default instruction budget', code: 'while true do end' },
];

/** A rule compiled once and called per request with the request's data as values (the value bridge). */
const RULE = 'function allow(user, amount) return user.role == "admin" or amount <= user.limit, user.name end';
const REQUESTS = [
  [{ name: 'ada', role: 'admin', limit: 0 }, 5000],
  [{ name: 'bob', role: 'user', limit: 100 }, 250],
] as const;

function main(): void {
  const out = (line = ''): void => {
    process.stdout.write(`${line}\n`);
  };
  const kernel = Kernel.boot({ memory: { limit: 16 * 1024 * 1024 } });
  out(versionLine());
  out('Each script below goes through sysLua; rc is its return value: the result length, or -errno.');
  EXAMPLES.forEach((example, i) => {
    const result = kernel.exec(example.code, { name: 'demo' });
    out();
    out(`${i + 1}. ${example.title}`);
    out(`   script: ${example.code}`);
    out(`   rc:     ${result.rc}`);
    if (result.rc >= 0) out(`   value:  ${result.value === '' ? '(empty)' : result.value}`);
    else out(`   error:  ${errnoName(result.rc) ?? `errno ${-result.rc}`}: ${result.error}`);
    if (example.note !== undefined) out(`   note:   ${example.note}`);
  });
  out();
  out('The value bridge: structured arguments in, structured values out, no source formatting.');
  out(`   rule:   ${RULE}`);
  kernel.exec(RULE, { name: 'rule' });
  for (const args of REQUESTS) {
    const r = kernel.call('allow', [...args]);
    out(`   allow(${JSON.stringify(args[0])}, ${args[1]}) -> ${r.rc >= 0 ? JSON.stringify(r.values) : `${errnoName(r.rc)}: ${r.error}`}`);
  }
  out();
  out('Kernel log (dmesg):');
  for (const record of kernel.dmesg()) out(`  ${formatRecord(record)}`);
  const { leaks } = kernel.shutdown();
  out();
  out(`Kernel shut down; ${leaks.length === 0 ? 'no memory leaked' : `${leaks.length} allocation(s) leaked`}.`);
}

main();
