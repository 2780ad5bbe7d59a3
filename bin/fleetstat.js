#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm run build`, run by `prepare`).
// main() resolves once its output is flushed and its servers are closed; exiting then means a
// stray handle (a socket a failed start left behind) can never keep a finished command alive.
import { main } from '../dist/cli/main.js';

process.exit(await main(process.argv.slice(2)));
