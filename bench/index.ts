/**
 * `npm run bench -- <subcommand> [options]`: benchmarks, not timed tests.
 *   backends   a training step per tensor backend (and PyTorch CPU), see bench/backends.ts
 *   profile    where a U-Net iteration's time goes on one backend, see bench/profileUnet.ts
 */
import { benchBackends } from './backends';
import { profileUnet } from './profileUnet';

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  backends: benchBackends,
  profile: profileUnet,
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const run = name ? SUBCOMMANDS[name] : undefined;
  if (!run) {
    console.error(`usage: npm run bench -- <${Object.keys(SUBCOMMANDS).join('|')}> [options]`);
    process.exit(2);
  }
  await run(rest);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
