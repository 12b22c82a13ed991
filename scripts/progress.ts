/** One line of a progress bar: `label [#####-----]  50% 5/10`. */
export const renderBar = (label: string, done: number, total: number, width = 30) => {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(ratio * width);
  return `${label.padEnd(12)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${total}`;
};

/**
 * A progress bar on stderr (stdout stays for the result). On a terminal it redraws one line per phase; in a
 * pipe or CI log it prints a line at each 10% step instead of redrawing.
 */
export const progressBar = (stream: { isTTY?: boolean; write(text: string): unknown } = process.stderr) => {
  let phase = '';
  let finished = false;
  let step = -1;
  let open = false;
  const end = () => {
    if (open) stream.write('\n');
    open = false;
  };
  return {
    update(label: string, done: number, total: number) {
      if (label !== phase) {
        end();
        phase = label;
        finished = false;
        step = -1;
      }
      if (finished) return;
      finished = done >= total;
      const line = renderBar(label, done, total);
      if (stream.isTTY) {
        stream.write(`\r${line}\x1b[K`);
        open = true;
        if (finished) end();
        return;
      }
      const now = total > 0 ? Math.floor((done / total) * 10) : 10;
      if (now > step || finished) stream.write(`${line}\n`);
      step = now;
    },
    /** Ends the current line, so what follows starts on its own. */
    end,
  };
};
