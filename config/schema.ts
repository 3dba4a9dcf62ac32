/**
 * The shape of nnunet-ts configuration. Strict objects: a misspelt key is an error, not a silent default.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonEmpty = z.string().min(1);

export const TlsSchema = z
  .object({
    certPath: nonEmpty.optional(),
    keyPath: nonEmpty.optional(),
    caPath: nonEmpty.optional(),
    serverName: nonEmpty.optional(),
  })
  .strict()
  .refine((t) => (t.certPath === undefined) === (t.keyPath === undefined), {
    message: 'certPath and keyPath go together (a client certificate needs its key)',
  });

export const ConfigSchema = z
  .object({
    paths: z
      .object({
        rawDataBase: nonEmpty,
        /** nnU-Net v2's nnUNet_raw (DatasetXXX_Name folders); absent: Dataset folders sit in rawDataBase. */
        raw: nonEmpty.optional(),
        preprocessed: nonEmpty,
        results: nonEmpty,
      })
      .strict(),
    temporal: z
      .object({
        /** host:port of a Temporal cluster; absent = the embedded dev server. */
        address: z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port').optional(),
        namespace: nonEmpty,
        tls: TlsSchema.optional(),
        serverReadyTimeoutSeconds: positiveInt,
      })
      .strict(),
    worker: z
      .object({
        maxConcurrentTraining: positiveInt,
        maxConcurrentCpuActivities: positiveInt,
        /** Tensor backend of the activities this machine runs; auto = the best that works here (docs/backends.md). */
        backend: z.enum(['auto', 'tfjs-node-gpu', 'tfjs-node', 'cpu']),
        /** model_latest.model every N epochs instead of nnU-Net's 50; absent = nnU-Net's. */
        checkpointEveryEpochs: positiveInt.optional(),
      })
      .strict(),
    training: z
      .object({
        trainer: nonEmpty,
        /** Folders of the user's own trainer modules, searched by trainer name (docs/training.md, 'Your own trainer'). */
        trainerPaths: z.array(nonEmpty),
        epochs: positiveInt,
        iterationsPerEpoch: positiveInt,
        /** Batch-producing threads beside the training step ('auto': cores − 1, 1 to 4; 0: in the step's own thread). */
        augmentationWorkers: z.union([z.literal('auto'), z.number().int().nonnegative()]),
        heartbeatTimeoutSeconds: positiveInt,
        /** 'bfloat16': the U-Net's convolutions in bfloat16 (opt-in; docs/training.md, 'Mixed precision'); absent: float32. */
        precision: z.enum(['float32', 'bfloat16']).optional(),
      })
      .strict(),
    planning: z
      .object({
        gpuMemoryTargetGb: z.number().positive(),
        /** The method `nnunet run` / `nnunet sweep` run when no --method is given; absent: v1. */
        method: z.enum(['v1', 'v2']).optional(),
        /** The nnU-Net v2 planner class of `--method v2` when no --planner is given; absent: ExperimentPlanner. */
        v2Planner: nonEmpty.optional(),
      })
      .strict(),
    /** `nnunet sweep`'s method variants when no --variants is given (v1, v2, v2:<planner>); absent: none. */
    sweep: z.object({ variants: z.array(nonEmpty).optional() }).strict().optional(),
    numProcesses: positiveInt,
    logging: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) })
      .strict(),
    data: z
      .object({
        /** Largest memory one image may need to be read (estimated from its header), in GB. */
        maxImageMemoryGb: z.number().positive(),
        /** Task files may be symbolic links that resolve outside the task folder (data on another volume). */
        allowExternalSymlinks: z.boolean(),
      })
      .strict(),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type TemporalConfig = Config['temporal'];
export type TlsConfig = z.infer<typeof TlsSchema>;
