#!/usr/bin/env node
/** nnU-Net v2's `nnUNetv2_download_pretrained_model_by_url`, read with its own argparse (see client/v2-aliases.ts). */
import { v2AliasMain } from '../v2-aliases';

v2AliasMain('nnUNetv2_download_pretrained_model_by_url');
