#!/usr/bin/env node
/** nnU-Net's `nnUNet_find_best_configuration`, translated onto `nnunet` commands (see client/aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_find_best_configuration');
