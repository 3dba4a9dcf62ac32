#!/usr/bin/env node
/** nnU-Net's `nnUNet_determine_postprocessing`, translated onto `nnunet` commands (see client/aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_determine_postprocessing');
