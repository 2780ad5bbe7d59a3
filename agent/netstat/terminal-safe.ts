// Text from the kernel or from other people's processes (socket paths, process names, node
// names) printed so it cannot drive the terminal: control characters, including ESC and the
// C1 range, are shown as \xNN, as `ls -b` does, so a path cannot clear the screen or forge rows.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
