/**
 * The terminal form of a Slack message, printed instead of sending when no webhook is
 * configured (a newcomer's first failing run shows what the team would see in Slack).
 */
import type { Block, SlackMessage } from './message.js';

/** Plain text of a mrkdwn string: entities decoded, `*bold*` and code fences dropped. */
export function plainText(mrkdwn: string): string {
  return mrkdwn
    .replace(/```/g, '')
    .replace(/\u200b/g, '')
    .replace(/(^|\s)\*([^*\n]+)\*/g, '$1$2')
    .replace(/:x: /g, '✗ ')
    .replace(/:white_check_mark: /g, '✓ ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** A readable, boxed rendering of `message`, with why it was not sent on the first line. */
export function formatForTerminal(message: SlackMessage, reason: string): string {
  const lines: string[] = [`┌─ Slack alert, not sent: ${reason}`];
  const add = (text: string, indent = '') => {
    for (const l of text.split('\n')) lines.push(`│ ${indent}${l}`);
  };
  for (const b of message.blocks as Block[]) {
    switch (b.type) {
      case 'header':
        add(b.text.text.toUpperCase());
        break;
      case 'section':
        if (b.fields) add(b.fields.map((f) => plainText(f.text)).join('   '));
        if (b.text) {
          const [first, ...rest] = plainText(b.text.text).replace(/\n+$/, '').split('\n');
          add(first ?? '');
          if (rest.length > 0) add(rest.join('\n'), '    ');
        }
        break;
      case 'context':
        add(b.elements.map((e) => plainText(e.text)).join(' '));
        break;
      case 'actions':
        for (const e of b.elements) add(`${e.text.text}: ${e.url}`);
        break;
      case 'divider':
        add('────');
        break;
    }
  }
  lines.push('└─');
  return lines.join('\n') + '\n';
}
