#!/usr/bin/env node
/** nnU-Net's `nnUNet_print_available_pretrained_models`, translated onto `nnunet pretrained ...` (see client/pretrained-aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_print_available_pretrained_models');
