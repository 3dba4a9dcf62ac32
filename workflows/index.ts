/** The workflows the worker bundles (its workflowsPath). */
export { taskWorkflow } from './task';
export { sweepWorkflow } from './sweep';
export { foldWorkflow } from './fold';
