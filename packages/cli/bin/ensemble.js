#!/usr/bin/env node
// The `ensemble` command. Plain JS so the version check below runs before any TypeScript loads.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `Ensemble needs Node.js 24 or newer; this is ${process.version}.\n` +
      'Fix: install Node.js 24 LTS, or run `. scripts/node24.sh` in this repository to use a private copy.\n',
  );
  process.exit(1);
}
const { main } = await import('../src/main.ts');
await main(process.argv);
