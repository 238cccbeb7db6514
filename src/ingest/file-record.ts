/** One record of an import file (JSON Lines or CSV): the parsed value, or why it could not be parsed. */
export type FileRecord = { line: number; value: unknown } | { line: number; error: string; id?: string };
