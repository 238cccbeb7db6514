// docs/benchmarks.md is two parts: the report `npm run bench` generates from its last run, and
// below NOTES_MARKER the notes people write about it (what the figures mean, which settings they
// justify, targets missed and why). Regenerating replaces the report and keeps the notes.
import path from 'node:path';

export const NOTES_MARKER = '<!-- notes: written by hand; npm run bench keeps everything below this line -->';

/** The new report followed by the notes of the previous document (none: the report alone). */
export function keepNotes(report: string, previous: string | undefined): string {
  const at = previous?.indexOf(NOTES_MARKER) ?? -1;
  if (previous === undefined || at < 0) return report;
  return `${report.trimEnd()}\n\n${previous.slice(at)}`;
}

/**
 * How the report names a profile's model directory: its path in the repository
 * (`models/review-sentiment-en`), or for a model generated elsewhere (the transformer-sized one in
 * the temp directory) only its directory name, so the report holds no path of the machine it ran on.
 */
export function modelDirLabel(dir: string): string {
  const portable = dir.split(path.sep).join('/');
  if (path.isAbsolute(dir) || portable === '..' || portable.startsWith('../'))
    return `generated: ${path.basename(dir)}`;
  return portable;
}
