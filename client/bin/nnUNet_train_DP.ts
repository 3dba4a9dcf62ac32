#!/usr/bin/env node
/** nnU-Net's `nnUNet_train_DP`, translated onto `nnunet` commands (see client/aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_train_DP');
