#!/usr/bin/env node
/** nnU-Net's `nnUNet_install_pretrained_model_from_zip`, translated onto `nnunet pretrained ...` (see client/pretrained-aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_install_pretrained_model_from_zip');
