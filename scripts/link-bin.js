#!/usr/bin/env node
// Links every command in package.json "bin" (nnunet and the nnU-Net aliases) into node_modules/.bin so that
// `npx nnunet` / `npx nnUNet_train` find this checkout's CLI (npm links the bins of dependencies, never the
// root package's own) and never fall through to the registry.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const { bin } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const binDir = path.join(root, 'node_modules', '.bin');
fs.mkdirSync(binDir, { recursive: true });
for (const [name, rel] of Object.entries(bin ?? {})) {
  const target = path.join(root, rel);
  if (!fs.existsSync(target)) continue; // not built yet
  fs.chmodSync(target, 0o755);
  const link = path.join(binDir, name);
  try { fs.unlinkSync(link); } catch { /* absent */ }
  fs.symlinkSync(path.relative(binDir, target), link);
}
