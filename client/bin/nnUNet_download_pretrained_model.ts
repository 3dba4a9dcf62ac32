#!/usr/bin/env node
/** nnU-Net's `nnUNet_download_pretrained_model`, translated onto `nnunet pretrained ...` (see client/pretrained-aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_download_pretrained_model');
