#!/usr/bin/env node
/** nnU-Net's `nnUNet_plan_and_preprocess`, translated onto `nnunet` commands (see client/aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_plan_and_preprocess');
