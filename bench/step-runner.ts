/**
 * Child process of `bench backends`: one backend, one workload, so peak RSS belongs to that pair alone.
 * Usage: node dist/bench/step-runner.js BACKEND WORKLOAD THREADS MIN_SECONDS MAX_STEPS
 * MAX_STEPS 0: time the first step alone, no warm-up (the pure-JS backend on a U-Net: minutes per step).
 * Prints one JSON line: StepResult.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, isBackendId } from '../activities/network/backend';
import { demoBenchPlans } from './demo-plan';
import { findWorkload } from './workloads';

export interface StepResult {
  backend: string;
  workload: string;
  detail: string;
  steps: number;
  msPerStep: number;
  firstStepMs: number;
  peakRssMB: number;
  /** Loss of the warm-up step: the same on every tfjs backend (same seeds), a check they compute alike. */
  firstLoss: number;
  loss: number;
}

async function main(): Promise<void> {
  const [backend, workloadName, threadsArg, minSecondsArg, maxStepsArg] = process.argv.slice(2);
  const workload = findWorkload(workloadName ?? '');
  if (!backend || !isBackendId(backend) || !workload) throw new Error(`usage: step-runner BACKEND WORKLOAD THREADS MIN_SECONDS MAX_STEPS`);
  const choice = await initBackend({ preference: backend, threads: Number(threadsArg) });
  const step = workload.build(tf, workload.needsPlans ? await demoBenchPlans() : undefined);
  let t = performance.now();
  const firstLoss = await step.run(); // the first step pays for kernel set-up and allocation
  const firstStepMs = performance.now() - t;
  const budgetMs = Number(minSecondsArg) * 1000;
  const maxSteps = Number(maxStepsArg);
  let steps = 0;
  let loss = firstLoss;
  let msPerStep = firstStepMs;
  if (maxSteps > 0) {
    t = performance.now();
    while (steps < 1 || (steps < maxSteps && performance.now() - t < budgetMs)) {
      loss = await step.run();
      steps++;
    }
    msPerStep = (performance.now() - t) / steps;
  } else {
    steps = 1;
  }
  step.dispose();
  const result: StepResult = {
    backend, workload: workload.name, detail: choice.detail, steps, msPerStep, firstStepMs,
    peakRssMB: process.resourceUsage().maxRSS / 1024, firstLoss, loss,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
