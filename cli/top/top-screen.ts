// The full-screen terminal of `gopsctl top`: the alternate screen with the cursor hidden, redrawn in place (cursor
// home, each line then clear-to-end-of-line, then clear below: no full clear, so no flicker), keys read in raw mode,
// redrawn on window resizes. close() puts the terminal back as it was (main screen, cursor, cooked mode); it runs
// on q, Ctrl-C, errors, and, as a last resort, on process exit.
import { writeSync } from "node:fs";

/** What the screen needs of stdin: a TTY ReadStream (setRawMode) or a test double. */
export interface KeyInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  isRaw?: boolean;
  on(event: "data", fn: (chunk: Buffer | string) => void): unknown;
  off(event: "data", fn: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** What the screen needs of stdout: a TTY WriteStream (columns, rows, 'resize') or a test double. */
export interface ScreenOutput {
  write(s: string): unknown;
  columns?: number;
  rows?: number;
  fd?: number;
  on(event: "resize", fn: () => void): unknown;
  off(event: "resize", fn: () => void): unknown;
}

export const ESC = {
  enter: "\x1b[?1049h\x1b[?25l", // alternate screen, hide cursor
  leave: "\x1b[?25h\x1b[?1049l", // show cursor, main screen
  home: "\x1b[H",
  clearLine: "\x1b[K",
  clearBelow: "\x1b[J",
} as const;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export class TopScreen {
  private open = false;
  private wasRaw = false;
  private readonly onData = (chunk: Buffer | string) => {
    for (const ch of chunk.toString()) this.onKey(ch);
  };
  private readonly onResize = () => this.onResizeCb();
  private readonly onExit = () => {
    // The process is exiting without close(): put the terminal back synchronously.
    if (this.open && this.out.fd !== undefined) writeSync(this.out.fd, ESC.leave);
  };

  constructor(
    private readonly input: KeyInput,
    private readonly out: ScreenOutput,
    private readonly onKey: (key: string) => void,
    private readonly onResizeCb: () => void,
  ) {}

  get columns(): number {
    return this.out.columns ?? 80;
  }

  get rows(): number {
    return this.out.rows ?? 24;
  }

  start(): void {
    if (this.open) return;
    this.open = true;
    this.out.write(ESC.enter);
    if (this.input.isTTY && this.input.setRawMode) {
      this.wasRaw = this.input.isRaw === true;
      this.input.setRawMode(true);
    }
    this.input.on("data", this.onData);
    this.input.resume();
    this.out.on("resize", this.onResize);
    process.once("exit", this.onExit);
  }

  /** Draws lines from the top-left, each cut to the width, clearing what was there; at most `rows` lines. */
  draw(lines: readonly string[]): void {
    if (!this.open) return;
    const width = Math.max(1, this.columns);
    const shown = lines.slice(0, Math.max(1, this.rows));
    // Last line of defence: no control character reaches the terminal from a line (tables are escaped already).
    const body = shown.map((l) => [...l.replace(CONTROL, "?")].slice(0, width).join("") + ESC.clearLine).join("\r\n");
    this.out.write(ESC.home + body + ESC.clearBelow);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    process.off("exit", this.onExit);
    this.out.off("resize", this.onResize);
    this.input.off("data", this.onData);
    if (this.input.isTTY && this.input.setRawMode) this.input.setRawMode(this.wasRaw);
    this.input.pause();
    this.out.write(ESC.leave);
  }
}
