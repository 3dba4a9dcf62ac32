#!/usr/bin/env node
/** nnU-Net's `nnUNet_evaluate_folder`, translated onto `nnunet` commands (see client/aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_evaluate_folder');
