#!/usr/bin/env node
// One closing line for CI from vitest's JSON report: "tests: N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'test/artifacts/vitest.json';
try {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const skipped = report.numPendingTests + report.numTodoTests;
  console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
} catch (error) {
  console.log(`tests: no report at ${path} (${error.message})`);
}
