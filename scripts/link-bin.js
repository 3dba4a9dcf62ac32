#!/usr/bin/env node
// Links the `nnunet` command into node_modules/.bin so that `npx nnunet` finds this checkout's CLI
// (npm links the bins of dependencies, never the root package's own) and never falls through to the registry.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const target = path.join(root, 'dist', 'client', 'cli.js');
const binDir = path.join(root, 'node_modules', '.bin');
if (!fs.existsSync(target)) process.exit(0);
fs.chmodSync(target, 0o755);
fs.mkdirSync(binDir, { recursive: true });
const link = path.join(binDir, 'nnunet');
try { fs.unlinkSync(link); } catch { /* absent */ }
fs.symlinkSync(path.relative(binDir, target), link);
