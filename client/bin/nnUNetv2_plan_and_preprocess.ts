#!/usr/bin/env node
/** nnU-Net v2's `nnUNetv2_plan_and_preprocess`, read with its own argparse (see client/v2-aliases.ts). */
import { v2AliasMain } from '../v2-aliases';

v2AliasMain('nnUNetv2_plan_and_preprocess');
