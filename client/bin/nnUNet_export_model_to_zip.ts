#!/usr/bin/env node
/** nnU-Net's `nnUNet_export_model_to_zip`, translated onto `nnunet pretrained ...` (see client/pretrained-aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_export_model_to_zip');
