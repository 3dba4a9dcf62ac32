/** nnU-Net v1 planning constants (ExperimentPlanner, Generic_UNet; docs/planning.md, 'Constants'). */
export const PLANNING = {
  targetSpacingPercentile: 50,
  anisotropyThreshold: 3,
  featureMapMinEdge: 4,
  maxNumPool: 999,
  /** v2.1 base features; the 3D memory reference is rescaled by 32/30 (the reference was measured with 30). */
  baseFeatures: 32,
  referenceBaseFeatures3d: 30,
  /** The 2D v2.1 planner's first memory estimate uses 30 features (docs/planning.md, 'Quirk decisions', 2). */
  firstEstimateBaseFeatures2d: 30,
  maxFeatures3d: 320,
  maxFeatures2d: 512,
  /** The networks cap features at 480 in 2D, not the 512 planning assumed (docs/network.md, 'The U-Net'). */
  networkMaxFeatures3d: 320,
  networkMaxFeatures2d: 480,
  convPerStage: 2,
  minBatchSize: 2,
  batchCoversMaxFractionOfDataset: 0.05,
  /** Lowres trigger: the median patient must be at least this many patches (docs/planning.md, 'Lowres stage'). */
  patientsPerPatchStage0: 4,
  vramReference3d: 520_000_000,
  vramReference2d: 19_739_648,
  defaultBatchSize3d: 2,
  defaultBatchSize2d: 50,
  /** The GPU memory nnU-Net's default 3D reference stands for. */
  defaultGpuMemoryGb: 8,
} as const;

export const PLANS_IDENTIFIER_V21 = 'nnUNetPlansv2.1';
export const DATA_IDENTIFIER_V21 = 'nnUNetData_plans_v2.1';
/** ExperimentPlanner3D_v22's identifiers. */
export const PLANS_IDENTIFIER_V22 = 'nnUNetPlansv2.2';
export const DATA_IDENTIFIER_V22 = 'nnUNetData_plans_v2.2';
