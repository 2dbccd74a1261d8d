/**
 * Text for a terminal: every C0 control (LF and tab too), DEL and C1 control shown as a visible
 * `\u00XX` escape, so attacker-chosen strings (a proposal's title, a rejected branch name quoted in an
 * error) cannot move the cursor, retitle the window or start a new line that looks like ours.
 * One pass, no regular expression.
 */
export function escapeControl(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && (c < 0x7f || c > 0x9f)) continue;
    out += text.slice(from, i) + `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}
