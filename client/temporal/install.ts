#!/usr/bin/env node
/** `npm run setup` step: puts a pinned `temporal` CLI into the cache (see binary.ts for the order and why). */
import { ensureTemporalBinary, temporalVersion } from './binary';

const found = ensureTemporalBinary((m) => console.log(`[temporal] ${m}`));
if (found) {
  console.log(`[temporal] using ${found.path} (${found.source}): ${temporalVersion(found.path)}`);
} else {
  console.log('[temporal] no temporal CLI could be installed here; the embedded server will use the Temporal SDK\'s own download (needs internet)');
}
