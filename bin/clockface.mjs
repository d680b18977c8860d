#!/usr/bin/env node
// The `clockface` command. Runs the TypeScript sources through tsx, so the CLI and the tests use the same code.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../electron/cli/main.ts');
await runCli(process.argv);
