import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { TaskError, ValidationError } from "./errors.js";
import { type ParseOptions, parseTask, type Task } from "./task-schema.js";

/** A task of a file that could not be used, with the reason. */
export interface InvalidTask {
  /** 1-based position in the file (array index + 1, or line number for JSON Lines). */
  readonly position: number;
  readonly id: string | undefined;
  readonly message: string;
  /** The raw value, when it parsed as JSON at all. */
  readonly raw: unknown;
}

/** A parsed task file: the good tasks run, the bad ones are reported. */
export interface TaskFile {
  readonly tasks: Task[];
  readonly invalid: InvalidTask[];
}

/** A task file that cannot be read or parsed at all (a usage error, exit code 2). */
export class TaskFileError extends TaskError {
  override readonly name = "TaskFileError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "validation", false, options);
  }
}

function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastBreak = i;
    }
  }
  return `line ${line}, column ${offset - lastBreak}`;
}

/** V8's JSON.parse message without the echoed input or the offset (reported separately). */
function jsonReason(error: unknown): string {
  return (error as Error).message
    .replace(/, "[\s\S]*"(\.\.\.)? is not valid JSON$/, "") // the echo, cut short with ... on a long line
    .replace(/ in JSON at position \d+.*$/, "");
}

/** A malformed line of a JSON Lines file, as one line: `bad.jsonl line 2: malformed JSON: ...`. */
function malformedLine(source: string, line: number, error: unknown): string {
  const position = /position (\d+)/.exec((error as Error).message);
  const column = position ? ` at column ${Number(position[1]) + 1}` : "";
  return `${source} line ${line}: malformed JSON: ${jsonReason(error)}${column}`;
}

/** A task file that cannot be opened or read, as a TaskFileError naming it and the reason. */
function cannotRead(path: string, error: unknown): TaskFileError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message;
  return new TaskFileError(`cannot read task file ${path}: ${why}`, { cause: error });
}

/** Turns V8's JSON.parse message into one with a line and column. */
function jsonErrorAt(text: string, error: Error, source: string): string {
  const reason = jsonReason(error);
  const position = /position (\d+)/.exec(error.message);
  const lineCol = /line (\d+) column (\d+)/.exec(error.message);
  const where = lineCol
    ? `line ${lineCol[1]}, column ${lineCol[2]}`
    : position
      ? lineAndColumn(text, Number(position[1]))
      : lineAndColumn(text, text.length);
  return `${source}: malformed JSON at ${where}: ${reason}`;
}

function collect<T>(
  raws: Iterable<[number, unknown]>,
  label: (position: number) => string,
  parse: (raw: unknown, position: () => string) => T,
): { tasks: T[]; invalid: InvalidTask[] } {
  const tasks: T[] = [];
  const invalid: InvalidTask[] = [];
  for (const [position, raw] of raws) {
    try {
      tasks.push(parse(raw, () => label(position)));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      invalid.push({ position, id: error.taskId, message: error.message, raw });
    }
  }
  return { tasks, invalid };
}

/**
 * Parses a task file's text: a JSON array of tasks, or JSON Lines (one task per line). Malformed
 * JSON (the array, or any one line) throws a TaskFileError with the line and column: nothing of
 * the file is used; a bad task inside a good file is returned in `invalid` and the others run.
 */
export function parseTaskText(text: string, source = "tasks", options: ParseOptions = {}): TaskFile {
  return parseItems(text, source, (raw, position) => parseTask(raw, { ...options, position }));
}

/**
 * A JSON array or JSON Lines file's items, each through `parse` (a ValidationError makes the
 * item invalid, the rest go on); malformed JSON, of the array or of any line, is a TaskFileError
 * with its line and column.
 */
function parseItems<T>(
  text: string,
  source: string,
  parse: (raw: unknown, position: () => string) => T,
): { tasks: T[]; invalid: InvalidTask[] } {
  const trimmed = text.trimStart();
  if (trimmed.length === 0) throw new TaskFileError(`${source}: the task file is empty`);
  if (trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new TaskFileError(jsonErrorAt(text, error as Error, source), { cause: error });
    }
    return collect(
      (parsed as unknown[]).map((raw, i) => [i + 1, raw] as [number, unknown]),
      (position) => `${source} item ${position}`,
      parse,
    );
  }
  // a malformed line refuses the whole file, as a malformed array does: nothing of it is run or
  // stored, and the file can be fixed and given again (a line that is JSON but not a valid task
  // is dead-lettered with its reason, as an array's item is)
  const entries: [number, unknown][] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim().length === 0) return;
    try {
      entries.push([i + 1, JSON.parse(line)]);
    } catch (error) {
      throw new TaskFileError(malformedLine(source, i + 1, error), { cause: error });
    }
  });
  return collect(entries, (position) => `${source} line ${position}`, parse);
}

/** Reads and parses a task file; a missing or unreadable file is a TaskFileError naming it. */
export async function loadTaskFile(path: string, options: ParseOptions = {}): Promise<TaskFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw cannotRead(path, error);
  }
  return parseTaskText(text, path, options);
}

/**
 * Reads a file of payloads for a handler module (a JSON array or JSON Lines), as they are. A
 * missing or unreadable file, or malformed JSON, is a TaskFileError naming it.
 */
export async function loadPayloadFile(
  path: string,
): Promise<{ payloads: unknown[]; invalid: InvalidTask[] }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw cannotRead(path, error);
  }
  const { tasks, invalid } = parseItems(text, path, (raw) => raw);
  return { payloads: tasks, invalid };
}

/** One line of a streamed task file: a task, or why the line is not one. */
export type StreamedTask = { readonly task: Task } | { readonly invalid: InvalidTask };

/**
 * Streams a JSON Lines task file one line at a time, so a file of any size can feed closed-loop
 * clients without being held in memory. Bad lines come out as `invalid` (with their line number)
 * and the stream goes on; a file that cannot be opened throws a TaskFileError naming it.
 */
export async function* streamTaskFile(
  path: string,
  options: ParseOptions = {},
): AsyncGenerator<StreamedTask> {
  const input = createReadStream(path, { encoding: "utf8" });
  const opened = new Promise<void>((resolve, reject) => {
    input.once("ready", () => resolve());
    input.once("error", reject);
  });
  try {
    await opened;
  } catch (error) {
    throw cannotRead(path, error);
  }
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    if (text.trim().length === 0) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      yield {
        invalid: { position: line, id: undefined, message: malformedLine(path, line, error), raw: undefined },
      };
      continue;
    }
    try {
      yield { task: parseTask(raw, { ...options, position: () => `${path} line ${line}` }) };
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      yield { invalid: { position: line, id: error.taskId, message: error.message, raw } };
    }
  }
}
