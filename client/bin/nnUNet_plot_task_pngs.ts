#!/usr/bin/env node
/** nnU-Net's `nnUNet_plot_task_pngs`, translated onto `nnunet` commands (see client/aliases.ts). */
import { aliasMain } from '../aliases';

aliasMain('nnUNet_plot_task_pngs');
