#!/usr/bin/env node
/** nnU-Net's `nnUNet_change_trainer_class`, translated onto `nnunet` commands (see client/aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_change_trainer_class');
