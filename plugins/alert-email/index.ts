import { ForestPlugin, ForestPluginSetting } from '@forest/plugin-api';
import { EmailChannel } from './email.channel';
import {
  DEFAULT_SUBJECT_PREFIX,
  EMAIL_FROM,
  EMAIL_SUBJECT_PREFIX,
  EMAIL_TO,
  SMTP_HOST,
  SMTP_PASSWORD,
  SMTP_PORT,
  SMTP_SECURE,
  SMTP_URL,
  SMTP_USER,
} from './email.settings';

export { EmailChannel } from './email.channel';
export { buildAlertMail } from './email.format';
export { readEmailSettings } from './email.settings';

/** What --help lists; email.settings.ts reads and checks them. */
export const EMAIL_PLUGIN_SETTINGS: readonly ForestPluginSetting[] = [
  {
    env: SMTP_URL,
    description:
      'email: the SMTP server, smtp://[user:password@]host[:port] (STARTTLS when offered, port 587) ' +
      'or smtps://... (TLS, port 465); percent-encode @ and : in the password',
  },
  { env: SMTP_HOST, description: `email: the SMTP server's host, instead of ${SMTP_URL}` },
  {
    env: SMTP_PORT,
    description: `email: with ${SMTP_HOST}, 1..65535`,
    default: '587, or 465 when secure',
  },
  {
    env: SMTP_SECURE,
    description: `email: with ${SMTP_HOST}, true = TLS from the start, false = STARTTLS when offered`,
    default: 'true on port 465, else false',
  },
  { env: SMTP_USER, description: `email: with ${SMTP_HOST}, the login (with ${SMTP_PASSWORD})` },
  { env: SMTP_PASSWORD, description: `email: with ${SMTP_HOST}, the password (with ${SMTP_USER})` },
  {
    env: EMAIL_FROM,
    description: 'email: the sender, "ops@example.com" or "Forest <forest@example.com>"',
  },
  { env: EMAIL_TO, description: 'email: the recipients, comma-separated' },
  {
    env: EMAIL_SUBJECT_PREFIX,
    description: 'email: starts every subject, one line, at most 100 characters',
    default: DEFAULT_SUBJECT_PREFIX,
  },
];

/**
 * The `email` alert channel: each alert as one mail through an SMTP server
 * (FOREST_SMTP_URL or FOREST_SMTP_HOST/PORT/SECURE/USER/PASSWORD) from FOREST_EMAIL_FROM to
 * FOREST_EMAIL_TO. With none of its settings set the channel is loaded but every send
 * fails saying it is not configured; a partial or bad configuration stops the boot.
 */
@ForestPlugin({
  name: 'alert-email',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description: 'email: alerts as mails (text and HTML) through SMTP (FOREST_SMTP_URL)',
  settings: EMAIL_PLUGIN_SETTINGS,
  providers: [EmailChannel],
})
export class EmailAlertPlugin {}
