/** nnU-Net v2's entry points read their command lines as v2's argparse does; those nnunet-ts cannot run exit 2 saying why. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../client/context';
import { parseV2Args, v2UsageLine } from '../../client/v2-argparse';
import { V2_PARSERS } from '../../client/v2-argparse-specs';
import { runV2Alias, V2_ENTRIES, v2HelpText, V2NotAvailable } from '../../client/v2-aliases';
import { assertBuilt, binShim, runCli } from './cli-helpers';

const parse = (prog: string, argv: string[]) => parseV2Args(prog, V2_PARSERS[prog]!, argv);

/** A command line every parser accepts: its positionals and required options, with values of the right type. */
function minimalArgv(prog: string): string[] {
  const p = V2_PARSERS[prog]!;
  const argv = p.positionals.map((x) => (x.choices ? x.choices[0]! : x.name === 'fold' ? '0' : x.name === 'configuration' ? '3d_fullres' : '4'));
  for (const o of p.options.filter((x) => x.required)) argv.push(o.names[0]!, ...(o.nargs === 0 ? [] : [o.type ? '1' : 'x']));
  return argv;
}

test('every nnunetv2 console script has a parser, an entry and a bin shim in package.json', () => {
  const pkg = require('../../../package.json') as { bin: Record<string, string> };
  assert.deepEqual(Object.keys(V2_ENTRIES).sort(), Object.keys(V2_PARSERS).sort());
  assert.equal(Object.keys(V2_PARSERS).length, 24);
  for (const prog of Object.keys(V2_PARSERS)) assert.equal(pkg.bin[prog], `dist/client/bin/${prog}.js`, prog);
});

test('every flag of every entry point is accepted (a command line giving all of them parses, each one read)', () => {
  for (const [prog, parser] of Object.entries(V2_PARSERS)) {
    const argv = minimalArgv(prog).slice(0, parser.positionals.length);
    for (const o of parser.options) {
      const value = o.choices ? o.choices[0]! : o.type ? '1' : 'x';
      argv.push(o.names[o.names.length - 1]!, ...(o.nargs === 0 ? [] : o.nargs === 1 ? [value] : [value, value]));
    }
    const r = parse(prog, argv);
    assert.deepEqual(r.unknown, [], prog);
    assert.equal(r.given.size, parser.options.length + parser.positionals.length, `${prog}: every argument read`);
  }
});

test("argparse's reading: defaults, nargs '+', types, = and unique prefixes, store_true", () => {
  const t = parse('nnUNetv2_train', ['Dataset004_Hippocampus', '3d_fullres', '0', '--npz', '-p=nnUNetResEncUNetMPlans']);
  assert.deepEqual([t.values.dataset_name_or_id, t.values.configuration, t.values.fold], ['Dataset004_Hippocampus', '3d_fullres', '0']);
  assert.equal(t.values.tr, 'nnUNetTrainer', "v2's default trainer");
  assert.equal(t.values.p, 'nnUNetResEncUNetMPlans');
  assert.equal(t.values.npz, true);
  assert.equal(t.values.c, false);
  assert.equal(t.values.num_gpus, 1);
  const p = parse('nnUNetv2_predict', ['-i', 'in', '-o', 'out', '-d', '4', '-c', '2d', '-f', '0', '1', '-step_size', '0.25', '--save_prob']);
  assert.deepEqual(p.values.f, ['0', '1']);
  assert.equal(p.values.step_size, 0.25);
  assert.equal(p.values.save_probabilities, true, 'a unique prefix names the option');
  assert.equal(p.values.npp, 3);
  assert.deepEqual(parse('nnUNetv2_predict', ['-i', 'a', '-o', 'b', '-d', '4', '-c', '2d']).values.f, [0, 1, 2, 3, 4], 'the default folds');
  const m = parse('nnUNetv2_predict_from_modelfolder', ['-i', 'a', '-o', 'b', '-m', 'model', '--c']);
  assert.equal(m.values.continue_prediction, true, '--c is a second spelling of --continue_prediction');
  assert.deepEqual(parse('nnUNetv2_plan_and_preprocess', ['-d', '2', '4', '-c', '2d', '-np', '4']).values.d, [2, 4]);
  assert.deepEqual(parse('nnUNetv2_plan_and_preprocess', ['-d', '2']).values.c, ['2d', '3d_fullres', '3d_lowres']);
  assert.equal(parse('nnUNetv2_convert_MSD_dataset', ['-i', 'Task05_Prostate', '-overwrite_id', '201']).values.overwrite_id, 201);
});

test("argparse's errors: usage line, then PROG: error: ...; parse_known_args parsers keep unknown tokens", () => {
  const err = (prog: string, argv: string[], re: RegExp) => assert.throws(() => parse(prog, argv), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    const [usage, message] = e.message.split('\n');
    assert.equal(usage, v2UsageLine(prog, V2_PARSERS[prog]!));
    assert.match(message!, re);
    return true;
  });
  err('nnUNetv2_train', ['4', '3d_fullres'], /^nnUNetv2_train: error: the following arguments are required: fold$/);
  err('nnUNetv2_predict', ['-i', 'a'], /required: -o, -d, -c$/);
  err('nnUNetv2_train', ['4', '2d', '0', '--bogus'], /unrecognized arguments: --bogus$/);
  err('nnUNetv2_train', ['4', '2d', '0', '-num_gpus', 'two'], /argument -num_gpus: invalid int value: 'two'$/);
  err('nnUNetv2_train', ['4', '2d', '0', '--va'], /ambiguous option: --va could match --val, --val_best$/);
  err('nnUNetv2_train_pretrained', ['4', '2d', '11', '-p', 'P'], /argument fold: invalid choice: '11'/);
  err('nnUNetv2_evaluate_simple', ['gt', 'pred', '-l'], /argument -l: expected at least one argument$/);
  err('nnUNetv2_train', ['4', '2d', '0', '--npz=1'], /ignored explicit argument '1'/);
  assert.deepEqual(parse('nnUNetv2_plan_experiment', ['-d', '4', '--bogus', 'x']).unknown, ['--bogus', 'x'], 'plan_experiment uses parse_known_args');
  assert.equal(parse('nnUNetv2_train', ['4', '2d', '0', '--val']).values.val, true, 'an exact name wins over longer ones');
});

test('-h prints argparse\'s usage and what each argument does here, for every entry point', async () => {
  for (const prog of Object.keys(V2_PARSERS)) {
    const help = v2HelpText(prog);
    assert.ok(help.startsWith(`usage: ${prog} [-h]`), prog);
    for (const o of V2_PARSERS[prog]!.options) assert.ok(help.includes(o.names[0]!), `${prog} -h lists ${o.names[0]}`);
  }
  const logged: string[] = [];
  const log = console.log;
  console.log = (s: string) => logged.push(s);
  try {
    await runV2Alias('nnUNetv2_evaluate_folder', ['-h']);
  } finally {
    console.log = log;
  }
  assert.match(logged.join('\n'), /-djfile DJFILE +dataset\.json: file_ending, labels\/regions, ignore label/);
});

test('the commands that need v2\'s trainer parse their full command line, then exit 2 naming what is missing and what works instead', async () => {
  const unavailable = Object.entries(V2_ENTRIES).filter(([, e]) => 'missing' in e.run).map(([p]) => p);
  assert.ok(unavailable.includes('nnUNetv2_train_pretrained') && !unavailable.includes('nnUNetv2_train') && !unavailable.includes('nnUNetv2_predict'));
  for (const prog of unavailable) {
    await assert.rejects(runV2Alias(prog, minimalArgv(prog)), (e: unknown) => e instanceof V2NotAvailable && e.exitCode === 2 && /not available in nnunet-ts yet: it needs .+What works instead: /.test(e.message), prog);
  }
  await assert.rejects(runV2Alias('nnUNetv2_train', ['4', '2d', '0', '-device', 'cpu', '--c', '--val_best', '-pretrained_weights', 'w.pth', '-num_gpus', '2']), V2NotAvailable);
  await assert.rejects(runV2Alias('nnUNetv2_train', ['4', '2d']), UsageError, 'a bad command line is a usage error first');
});

test('the bin shims: -h exits 0, nnUNetv2_train_pretrained exits 2 with nnUNetv2_train -pretrained_weights as what works instead, a bad flag exits 2 with argparse\'s text', () => {
  assertBuilt();
  const help = runCli(['-h'], { script: binShim('nnUNetv2_plan_experiment') });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: nnUNetv2_plan_experiment \[-h\] \[-d D \[D \.\.\.\]\] \[-pl PL\]/);
  const train = runCli(['4', '3d_fullres', '0', '-p', 'P'], { script: binShim('nnUNetv2_train_pretrained') });
  assert.equal(train.status, 2);
  assert.match(train.stderr, /^nnUNetv2_train_pretrained: not available in nnunet-ts yet: .*What works instead: nnUNetv2_train DATASET CONFIGURATION FOLD -pretrained_weights CHECKPOINT/);
  const bad = runCli(['-i', 'x', '--nope'], { script: binShim('nnUNetv2_convert_MSD_dataset') });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /nnUNetv2_convert_MSD_dataset: error: unrecognized arguments: --nope/);
});
