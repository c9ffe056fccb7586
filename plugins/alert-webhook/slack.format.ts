import { AlertSeverity, ForestAlert, PluginSettings } from '@forest/plugin-api';
import { HttpDeliveryOptions, readDeliveryOptions, readHttpUrl, USER_AGENT } from './http-delivery';

/**
 * The `slack` channel's message: Slack incoming-webhook JSON (`text` plus Block Kit
 * `blocks`), which Mattermost and Rocket.Chat also accept. `text` is the one-line fallback
 * shown in notifications; `blocks` is what the channel shows.
 */

export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text: SlackText }
  | { readonly type: 'section'; readonly fields: readonly SlackText[] }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] };

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/**
 * Slack's limits are 150 characters for a header, 3000 for a section's text and 2000 for
 * a field; an error text (a stack trace, say) is cut well before them so the message stays
 * readable and the fallback text short.
 */
export const MESSAGE_CHARS = 1500;
export const ERROR_CHARS = 1500;
const HEADER_CHARS = 150;
const FIELD_CHARS = 300;
const TEXT_CHARS = 3000;

const EMOJI: Record<AlertSeverity, string> = {
  critical: ':rotating_light:',
  warning: ':warning:',
  info: ':information_source:',
};

export interface SlackSettings {
  /** Unset: the channel is loaded but every send fails with a message saying so. */
  readonly url?: string;
  readonly delivery: HttpDeliveryOptions;
}

/** Reads and checks the FOREST_SLACK_* settings; throws naming the bad variable. */
export function readSlackSettings(settings: PluginSettings): SlackSettings {
  return {
    url: readHttpUrl(settings, 'FOREST_SLACK_WEBHOOK_URL'),
    delivery: readDeliveryOptions(settings, 'FOREST_SLACK'),
  };
}

export function slackHeaders(): Record<string, string> {
  return { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT };
}

/** What the alert is about: its job, else its worker, else the node that raised it. */
function subject(alert: ForestAlert): string {
  if (alert.job) {
    return `job ${alert.job.name}${alert.job.group ? ` (${alert.job.group})` : ''}`;
  }
  if (alert.worker) return `worker ${alert.worker.id} (${alert.worker.group})`;
  return `node ${alert.node}`;
}

export function buildSlackMessage(alert: ForestAlert): SlackMessage {
  const emoji = EMOJI[alert.severity] ?? EMOJI.info;
  const about = subject(alert);
  const text = escapeMrkdwn(
    `${emoji} [${alert.severity}] ${alert.event}: ${about} — ${truncate(oneLine(alert.message), MESSAGE_CHARS)}`,
    TEXT_CHARS,
  );

  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`${emoji} ${alert.event}: ${about}`, HEADER_CHARS),
        emoji: true,
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(alert.message, MESSAGE_CHARS) } },
  ];
  const error = alert.execution?.error;
  if (error) {
    // Backticks would end the code block early; a lookalike keeps the text readable.
    const code = escapeMrkdwn(error.replace(/```/g, 'ˋˋˋ'), ERROR_CHARS);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${code}\`\`\`` } });
  }
  blocks.push({ type: 'section', fields: fields(alert) });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `alert ${escapeMrkdwn(alert.id)}` }],
  });
  return { text, blocks };
}

function fields(alert: ForestAlert): SlackText[] {
  // Values are mrkdwn: alert text is escaped here, slackDate's markup is not.
  const text = (value: string) => escapeMrkdwn(value, FIELD_CHARS);
  const out: [string, string][] = [['Event', text(`${alert.event} (${alert.severity})`)]];
  if (alert.job) out.push(['Job', text(`${alert.job.name} (${alert.job.id})`)]);
  if (alert.execution) {
    out.push(['Execution', text(`${alert.execution.id} (attempt ${alert.execution.attempt})`)]);
  }
  const worker = alert.worker?.id ?? alert.execution?.worker;
  if (worker) out.push(['Worker', text(worker)]);
  out.push(['Node', text(alert.node)]);
  out.push(['Time', slackDate(alert.at)]);
  if (alert.suppressed) {
    const { count, since } = alert.suppressed;
    out.push(['Summary', `${count} more since ${slackDate(since)}`]);
  }
  return out.map(([label, value]) => ({ type: 'mrkdwn', text: `*${label}*\n${value}` }));
}

/** Slack shows `<!date^...>` in each reader's time zone, and the ISO text where it cannot. */
function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso, FIELD_CHARS);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time_secs}|${escapeMrkdwn(iso)}>`;
}

/** The fallback text shows in notifications, which want a single line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** At most `max` characters, the last being an ellipsis when cut; never splits a pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * Escapes what Slack's mrkdwn treats as markup (&, <, >: user text must not become a link
 * or a mention) and cuts the result to `max` characters without splitting an entity.
 */
export function escapeMrkdwn(text: string, max = Infinity): string {
  const escape = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const whole = escape(text);
  if (whole.length <= max) return whole;
  let out = '';
  for (const ch of text) {
    const piece = escape(ch);
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return `${out}…`;
}
