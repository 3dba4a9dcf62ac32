/** The sweep report: one row per task × configuration. Pure types shared by the sweep workflow and its report activity. */

export interface SweepRow {
  task: string;
  /** The method variant (v1, v2, v2:<planner>), when the sweep compares variants. */
  variant?: string;
  /** A configuration name, or `-` when the task failed before planning. */
  configuration: string;
  status: 'completed' | 'failed';
  /** Cross-validation mean foreground Dice (find-best's figure; else the mean over the trained folds). */
  meanForegroundDice?: number;
  /** Cross-validation Dice per foreground label of this configuration ("1", "2", ...). */
  dicePerClass?: Record<string, number>;
  /** The task's winner (a configuration or an ensemble name). */
  bestConfiguration?: string;
  /** The task's best pairwise ensemble and its mean foreground Dice, when ensembles were scored. */
  bestEnsemble?: string;
  bestEnsembleDice?: number;
  /** Epochs this configuration's folds trained. */
  epochs?: number;
  /** Sum of this configuration's fold training times, seconds. */
  trainTimeS?: number;
  /** The whole task's wall time, seconds. */
  taskWallTimeS?: number;
  error?: string;
}

export interface SweepReportInput {
  /** Folder the files go to (created). */
  reportDir: string;
  name: string;
  rows: SweepRow[];
}

export interface SweepReportOutput {
  csvFile: string;
  markdownFile: string;
  /** The same rows as grouped bars (task x configuration mean foreground Dice). */
  plotFile: string;
}

export interface ReportActivities {
  writeSweepReport(input: SweepReportInput): Promise<SweepReportOutput>;
}
