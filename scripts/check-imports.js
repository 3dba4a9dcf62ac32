#!/usr/bin/env node
// Checks the import rules of docs/architecture.md on the product code (activities/, workflows/, worker/, client/,
// config/): each stage folder under activities/ imports only stages below it, workflows/ imports from activities/
// only self-contained files (the contract, plain constants), activities/ never imports client/, worker/ or
// workflows/, and no file takes part in an import cycle. Prints the folder-level import table, then every
// violation; exits 1 on any violation. Works from any current directory.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

/** The checkout to check: this one, or CHECK_IMPORTS_ROOT (another checkout, or the tests' small trees). */
const root = path.resolve(process.env.CHECK_IMPORTS_ROOT ?? path.join(__dirname, '..'));
const PRODUCT_DIRS = ['activities', 'workflows', 'worker', 'client', 'config'];

/**
 * The stages under activities/, bottom to top: a stage imports only stages listed before it. postprocessing sits
 * right above evaluation: it needs only evaluation, volume and io, and inference and ensembling apply its rules.
 */
const STAGE_ORDER = ['contract', 'common', 'io', 'volume', 'evaluation', 'postprocessing', 'fingerprint', 'planning',
  'preprocessing', 'network', 'inference', 'training', 'ensembling'];
/** Stages outside the chain, with the only stages they may import. */
const SIDE_STAGES = { report: ['contract', 'common'] };
/** activities/index.ts gathers the activity adapters of every stage: it sits above all of them. */
const TOP = 'index.ts';
/**
 * What workflows/ may import from activities/: self-contained files (the contract, plain constants), i.e. files
 * that import nothing but other self-contained files: no package, no Node module, so nothing that could touch
 * files, clocks or randomness.
 */
function selfContainedFiles(files, edges, packageUsers) {
  const pure = new Set(files.filter((f) => !packageUsers.has(f)));
  for (let changed = true; changed;) {
    changed = false;
    for (const e of edges) if (pure.has(e.from) && !pure.has(e.to)) { pure.delete(e.from); changed = true; }
  }
  return pure;
}

/**
 * Known violations, each with the file imported and the reason, e.g.
 * `{ from: 'inference', to: 'postprocessing', file: 'activities/postprocessing/x.ts', reason: 'until ... lands' }`.
 * Delete an entry once it is fixed: the check fails on an entry that matches nothing, so the list cannot go stale.
 */
const ALLOWED = [];

function listTsFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listTsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const rel = (p) => path.relative(root, p).split(path.sep).join('/');

/** The repository file a relative import names (.ts or folder/index.ts), or undefined for a package. */
function resolveImport(fromFile, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const candidate of [base + '.ts', path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${rel(fromFile)}: cannot resolve import '${spec}'`);
}

/** The node of the folder graph a file belongs to: a stage under activities/, or a top-level folder. */
function folderOf(file) {
  const parts = file.split('/');
  if (parts[0] !== 'activities') return parts[0];
  if (parts.length === 2) return parts[1] === 'contract.ts' ? 'contract' : TOP;
  return parts[1];
}

function importEdges() {
  const files = PRODUCT_DIRS.flatMap((d) => listTsFiles(path.join(root, d)));
  const edges = [];
  const packageUsers = new Set();
  for (const file of files) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    for (const ref of info.importedFiles) {
      const target = resolveImport(file, ref.fileName);
      if (target) edges.push({ from: rel(file), to: rel(target) });
      else packageUsers.add(rel(file));
    }
  }
  return { files: files.map(rel), edges, packageUsers };
}

function stageRule(from, to) {
  if (from === to || from === TOP) return undefined;
  if (SIDE_STAGES[from]) return SIDE_STAGES[from].includes(to) ? undefined : `${from} may import only ${SIDE_STAGES[from].join(', ')}`;
  if (SIDE_STAGES[to]) return `${to} is imported only by the worker`;
  if (to === TOP) return 'activities/index.ts is imported only by the worker';
  const a = STAGE_ORDER.indexOf(from);
  const b = STAGE_ORDER.indexOf(to);
  if (a < 0) return `unknown stage folder activities/${from}: add it to STAGE_ORDER in scripts/check-imports.js`;
  if (b < 0) return `unknown stage folder activities/${to}: add it to STAGE_ORDER in scripts/check-imports.js`;
  return b < a ? undefined : `${from} imports ${to}, which is not below it in the stage order`;
}

/** The rule an import breaks, or undefined. */
function violationOf(edge, selfContained) {
  const fromTop = edge.from.split('/')[0];
  const toTop = edge.to.split('/')[0];
  if (fromTop === 'workflows' && toTop !== 'workflows' && !(toTop === 'activities' && selfContained.has(edge.to))) {
    return 'workflows/ imports only workflows/ and self-contained activities/ files such as the contract (deterministic code)';
  }
  if (fromTop === 'activities' && ['client', 'worker', 'workflows'].includes(toTop)) {
    return `activities/ never imports ${toTop}/`;
  }
  if (fromTop === 'config' && toTop !== 'config') return 'config/ imports nothing of the project';
  if (fromTop === 'worker' && toTop === 'client') return 'worker/ never imports client/';
  if (fromTop === 'activities' && toTop === 'activities') return stageRule(folderOf(edge.from), folderOf(edge.to));
  return undefined;
}

/** Strongly connected components with more than one file (Tarjan's algorithm, iterative). */
function fileCycles(files, edges) {
  const out = new Map(files.map((f) => [f, []]));
  for (const e of edges) out.get(e.from).push(e.to);
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const cycles = [];
  let counter = 0;
  for (const start of files) {
    if (index.has(start)) continue;
    const work = [{ node: start, next: 0 }];
    index.set(start, counter); low.set(start, counter); counter++; stack.push(start); onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const succ = out.get(top.node);
      if (top.next < succ.length) {
        const w = succ[top.next++];
        if (!index.has(w)) {
          index.set(w, counter); low.set(w, counter); counter++; stack.push(w); onStack.add(w);
          work.push({ node: w, next: 0 });
        } else if (onStack.has(w)) low.set(top.node, Math.min(low.get(top.node), index.get(w)));
        continue;
      }
      work.pop();
      if (work.length) low.set(work[work.length - 1].node, Math.min(low.get(work[work.length - 1].node), low.get(top.node)));
      if (low.get(top.node) === index.get(top.node)) {
        const scc = [];
        let w;
        do { w = stack.pop(); onStack.delete(w); scc.push(w); } while (w !== top.node);
        if (scc.length > 1) cycles.push(scc.sort());
      }
    }
  }
  return cycles;
}

/** A folder's name in the table: activities/<stage> (contract, index.ts for the files at its top) or <folder>/. */
const tableName = (file) => (file.startsWith('activities/') ? `activities/${folderOf(file)}` : `${file.split('/')[0]}/`);

function printTable(edges) {
  const table = new Map();
  for (const e of edges) {
    const from = tableName(e.from);
    const to = tableName(e.to);
    if (from === to) continue;
    if (!table.has(from)) table.set(from, new Map());
    table.get(from).set(to, (table.get(from).get(to) ?? 0) + 1);
  }
  console.log('Folder-level imports (number of import statements; activities/ prefix left out on the right):');
  for (const from of [...table.keys()].sort()) {
    const targets = [...table.get(from).entries()].sort(([a], [b]) => a.localeCompare(b));
    console.log(`  ${from.padEnd(26)} -> ${targets.map(([to, n]) => `${to.replace('activities/', '')} (${n})`).join(', ')}`);
  }
}

function main() {
  const { files, edges, packageUsers } = importEdges();
  const selfContained = selfContainedFiles(files, edges, packageUsers);
  printTable(edges);
  const problems = [];
  const used = new Set();
  for (const edge of edges) {
    const why = violationOf(edge, selfContained);
    if (!why) continue;
    const allowed = ALLOWED.find((a) => a.file === edge.to && a.from === folderOf(edge.from) && a.to === folderOf(edge.to));
    if (allowed) { used.add(allowed); continue; }
    problems.push(`${edge.from} -> ${edge.to}: ${why}`);
  }
  for (const cycle of fileCycles(files, edges)) problems.push(`import cycle: ${cycle.join(' <-> ')}`);
  for (const a of ALLOWED) {
    if (used.has(a)) console.log(`allowed for now: ${a.from} -> ${a.file} (${a.reason})`);
    else problems.push(`stale allow-list entry in scripts/check-imports.js: ${a.from} -> ${a.file}; delete it`);
  }
  if (problems.length) {
    console.error(`\n${problems.length} import rule violation(s) (see docs/architecture.md):`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`import rules hold (${files.length} files, ${edges.length} imports)`);
}

main();
