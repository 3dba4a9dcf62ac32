#!/usr/bin/env node
/** nnU-Net's `nnUNet_print_pretrained_model_info`, translated onto `nnunet pretrained ...` (see client/pretrained-aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_print_pretrained_model_info');
