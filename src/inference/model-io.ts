/**
 * The model runner's pure checks of an ONNX session against the fleet's contract: which inputs
 * and outputs it has (at load), the shape of the logits of a call (every call), and whether the
 * explainer reproduces the model (at warm-up).
 */

const REQUIRED_INPUTS = ['input_ids', 'attention_mask'];
const OPTIONAL_INPUTS = ['token_type_ids'];

/** What is wrong with a session's inputs and outputs; empty when it fits. */
export function sessionProblems(inputNames: readonly string[], outputNames: readonly string[]): string[] {
  const missing = REQUIRED_INPUTS.filter((n) => !inputNames.includes(n));
  const unknown = inputNames.filter((n) => !REQUIRED_INPUTS.includes(n) && !OPTIONAL_INPUTS.includes(n));
  return [
    missing.length > 0 ? `missing input(s) ${missing.join(', ')}` : '',
    unknown.length > 0 ? `unsupported input(s) ${unknown.join(', ')}` : '',
    outputNames.includes('logits') ? '' : `no "logits" output (has ${outputNames.join(', ')})`,
  ].filter(Boolean);
}

/** Why logits of these dims are not one row of `labels` scores per input row; undefined when they are. */
export function logitsProblem(dims: readonly number[] | undefined, rows: number, labels: number): string | undefined {
  if (dims && dims.length === 2 && dims[0] === rows && dims[1] === labels) return undefined;
  return `logits have shape [${(dims ?? []).join(', ')}], expected [${rows}, ${labels}] (config.json id2label has ${labels} labels)`;
}

/** Whether an explainer's margin agrees with the model's (relative tolerance 1e-3, at least 1e-3). */
export function marginsAgree(got: number, expected: number): boolean {
  return Math.abs(got - expected) <= 1e-3 * Math.max(1, Math.abs(expected));
}
