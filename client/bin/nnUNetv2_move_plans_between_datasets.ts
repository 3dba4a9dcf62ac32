#!/usr/bin/env node
/** nnU-Net v2's `nnUNetv2_move_plans_between_datasets`, read with its own argparse (see client/v2-aliases.ts). */
import { v2AliasMain } from '../v2-aliases';

v2AliasMain('nnUNetv2_move_plans_between_datasets');
