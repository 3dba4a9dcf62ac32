#!/usr/bin/env node
/** nnU-Net's `nnUNet_convert_decathlon_task`, translated onto `nnunet` commands (see client/aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_convert_decathlon_task');
