/**
 * TensorFlow 2.21 writes two lines to stderr whenever a process loads it (absl's note that logging is not set up
 * yet, and oneDNN's "custom operations are on"); TF_CPP_MIN_LOG_LEVEL does not silence them. Processes we start
 * filter them out of their children's stderr, so a run's live view is not torn by one pair per training fold.
 */
const NOISE = [
  /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/,
  /^I\d{4} [\d:.]+ +\d+ (port|cpu_feature_guard)\.cc:\d+\] /,
];

export const isTensorflowStartupNoise = (line: string): boolean => NOISE.some((re) => re.test(line));

/** Copies a child's stderr to ours line by line, without TensorFlow's start-up lines. */
export function forwardStderrWithoutNoise(stream: NodeJS.ReadableStream, to: NodeJS.WritableStream = process.stderr): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (!isTensorflowStartupNoise(line)) to.write(`${line}\n`);
  });
  stream.on('end', () => {
    if (pending && !isTensorflowStartupNoise(pending)) to.write(pending);
  });
}
