#!/usr/bin/env node
/** nnU-Net's `nnUNet_download_pretrained_model_by_url`, translated onto `nnunet pretrained ...` (see client/pretrained-aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_download_pretrained_model_by_url');
