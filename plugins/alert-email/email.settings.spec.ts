import { getForestPluginInfo, PluginSettings } from '@forest/plugin-api';
import { EMAIL_PLUGIN_SETTINGS, EmailAlertPlugin } from './index';
import { EMAIL_SETTINGS, NOT_CONFIGURED, parseSmtpUrl, readEmailSettings } from './email.settings';

class MapSettings extends PluginSettings {
  constructor(private readonly values: Record<string, string>) {
    super();
  }

  get(name: string): string | undefined {
    const value = this.values[name]?.trim();
    return value ? value : undefined;
  }
}

const read = (values: Record<string, string>) => readEmailSettings(new MapSettings(values));
const MAIL = { FOREST_EMAIL_FROM: 'forest@example.com', FOREST_EMAIL_TO: 'ops@example.com' };

describe('email settings', () => {
  it('is unconfigured, not an error, when none is set', () => {
    expect(read({})).toBeUndefined();
    expect(read({ FOREST_SMTP_URL: '  ' })).toBeUndefined();
    expect(NOT_CONFIGURED).toBe(
      'the email channel is not configured: set FOREST_SMTP_URL (or FOREST_SMTP_HOST), ' +
        'FOREST_EMAIL_FROM and FOREST_EMAIL_TO',
    );
  });

  it('reads a URL with credentials, sender, recipients and prefix', () => {
    expect(
      read({
        FOREST_SMTP_URL: 'smtps://alerts%40example.com:p%3Ass%40w0rd@smtp.example.com:2465',
        FOREST_EMAIL_FROM: 'Forest <forest@example.com>',
        FOREST_EMAIL_TO: 'ops@example.com, "Doe, Jane" <jane@example.com>',
        FOREST_EMAIL_SUBJECT_PREFIX: '[prod]',
      }),
    ).toEqual({
      server: {
        host: 'smtp.example.com',
        port: 2465,
        secure: true,
        auth: { user: 'alerts@example.com', pass: 'p:ss@w0rd' },
      },
      from: { name: 'Forest', address: 'forest@example.com' },
      to: [
        { name: '', address: 'ops@example.com' },
        { name: 'Doe, Jane', address: 'jane@example.com' },
      ],
      subjectPrefix: '[prod]',
    });
  });

  it('defaults the port by scheme and the subject prefix', () => {
    expect(read({ FOREST_SMTP_URL: 'smtp://mail.internal', ...MAIL })).toEqual({
      server: { host: 'mail.internal', port: 587, secure: false },
      from: { name: '', address: 'forest@example.com' },
      to: [{ name: '', address: 'ops@example.com' }],
      subjectPrefix: '[Forest]',
    });
    expect(parseSmtpUrl('smtps://mail.internal')).toEqual({
      host: 'mail.internal',
      port: 465,
      secure: true,
    });
    expect(parseSmtpUrl('smtp://[::1]:25/')).toEqual({ host: '::1', port: 25, secure: false });
  });

  it('reads the server from its parts', () => {
    expect(
      read({
        FOREST_SMTP_HOST: 'smtp.example.com',
        FOREST_SMTP_USER: 'alerts',
        FOREST_SMTP_PASSWORD: 'secret',
        ...MAIL,
      })?.server,
    ).toEqual({
      host: 'smtp.example.com',
      port: 587,
      secure: false,
      auth: { user: 'alerts', pass: 'secret' },
    });
    // Port 465 means TLS unless said otherwise; secure alone means port 465.
    expect(read({ FOREST_SMTP_HOST: 'h', FOREST_SMTP_PORT: '465', ...MAIL })?.server).toEqual({
      host: 'h',
      port: 465,
      secure: true,
    });
    expect(read({ FOREST_SMTP_HOST: 'h', FOREST_SMTP_SECURE: 'true', ...MAIL })?.server).toEqual({
      host: 'h',
      port: 465,
      secure: true,
    });
    expect(
      read({ FOREST_SMTP_HOST: 'h', FOREST_SMTP_PORT: '25', FOREST_SMTP_SECURE: 'false', ...MAIL })
        ?.server,
    ).toEqual({ host: 'h', port: 25, secure: false });
  });

  it.each([
    // A setting that would do nothing.
    [
      { FOREST_EMAIL_TO: 'ops@example.com' },
      'FOREST_EMAIL_TO is set, but no SMTP server is: set FOREST_SMTP_URL (or FOREST_SMTP_HOST), or unset it',
    ],
    [
      { FOREST_SMTP_USER: 'u', FOREST_SMTP_PASSWORD: 'p', FOREST_EMAIL_SUBJECT_PREFIX: 'x' },
      'FOREST_SMTP_USER, FOREST_SMTP_PASSWORD, FOREST_EMAIL_SUBJECT_PREFIX are set, but no SMTP server is: ' +
        'set FOREST_SMTP_URL (or FOREST_SMTP_HOST), or unset them',
    ],
    [
      { FOREST_SMTP_URL: 'smtp://h', FOREST_SMTP_PORT: '25', ...MAIL },
      /^FOREST_SMTP_URL and FOREST_SMTP_PORT are both set: name the SMTP server one way/,
    ],
    // Missing what a configured channel needs.
    [{ FOREST_SMTP_URL: 'smtp://h' }, 'FOREST_EMAIL_FROM is required when FOREST_SMTP_URL is set'],
    [
      { FOREST_SMTP_HOST: 'h', FOREST_EMAIL_FROM: 'a@b.c' },
      'FOREST_EMAIL_TO is required when FOREST_SMTP_HOST is set',
    ],
    [
      { FOREST_SMTP_HOST: 'h', FOREST_SMTP_USER: 'u', ...MAIL },
      'FOREST_SMTP_USER is set without FOREST_SMTP_PASSWORD: set both, or neither',
    ],
    [
      { FOREST_SMTP_HOST: 'h', FOREST_SMTP_PASSWORD: 'p', ...MAIL },
      'FOREST_SMTP_PASSWORD is set without FOREST_SMTP_USER: set both, or neither',
    ],
    // Bad values.
    [
      { FOREST_SMTP_URL: 'http://h', ...MAIL },
      'FOREST_SMTP_URL: must be an smtp:// or smtps:// URL (got http:)',
    ],
    [{ FOREST_SMTP_URL: 'smtp://', ...MAIL }, /^FOREST_SMTP_URL: (has no host|not a valid URL)/],
    [
      { FOREST_SMTP_URL: 'smtp://h/x?pool=true', ...MAIL },
      /^FOREST_SMTP_URL: must be smtp\[s\]:\/\/user:password@host:port with nothing after the port/,
    ],
    [
      { FOREST_SMTP_URL: 'smtp://user@h', ...MAIL },
      'FOREST_SMTP_URL: give both a user and a password (user:password@host), or neither',
    ],
    [
      { FOREST_SMTP_URL: 'smtp://u:%zz@h', ...MAIL },
      'FOREST_SMTP_URL: the user or password is not valid percent-encoding',
    ],
    [
      { FOREST_SMTP_HOST: 'smtp://h', ...MAIL },
      /^FOREST_SMTP_HOST: must be a host name or IP address/,
    ],
    [
      { FOREST_SMTP_HOST: 'h', FOREST_SMTP_PORT: '70000', ...MAIL },
      'FOREST_SMTP_PORT: "70000" is not a whole number in 1..65535',
    ],
    [
      { FOREST_SMTP_HOST: 'h', FOREST_SMTP_SECURE: 'yes', ...MAIL },
      'FOREST_SMTP_SECURE: must be true or false (got "yes")',
    ],
    [
      { FOREST_SMTP_HOST: 'h', ...MAIL, FOREST_EMAIL_FROM: 'a@b.c, d@e.f' },
      'FOREST_EMAIL_FROM: must be one address such as "ops@example.com" or "Ops <ops@example.com>" (got "a@b.c, d@e.f")',
    ],
    [
      { FOREST_SMTP_HOST: 'h', ...MAIL, FOREST_EMAIL_FROM: 'forest' },
      /^FOREST_EMAIL_FROM: must be one address/,
    ],
    [
      { FOREST_SMTP_HOST: 'h', ...MAIL, FOREST_EMAIL_TO: 'ops@example.com, oops' },
      'FOREST_EMAIL_TO: must be a comma-separated list of addresses such as "ops@example.com" or ' +
        '"Ops <ops@example.com>" (got "ops@example.com, oops")',
    ],
    [
      { FOREST_SMTP_HOST: 'h', ...MAIL, FOREST_EMAIL_TO: ',' },
      /^FOREST_EMAIL_TO: must be a comma-separated list/,
    ],
    [
      { FOREST_SMTP_HOST: 'h', ...MAIL, FOREST_EMAIL_SUBJECT_PREFIX: 'a\nBcc: x@y.z' },
      'FOREST_EMAIL_SUBJECT_PREFIX: must be one line',
    ],
    [
      { FOREST_SMTP_HOST: 'h', ...MAIL, FOREST_EMAIL_SUBJECT_PREFIX: 'x'.repeat(101) },
      'FOREST_EMAIL_SUBJECT_PREFIX: at most 100 characters (got 101)',
    ],
  ])('refuses %j', (values, message) => {
    expect(() => read(values as Record<string, string>)).toThrow(message);
  });

  it('never echoes the URL, which holds the password', () => {
    for (const url of ['smtp://u:s3cr3t@h/path', 'smtp://u:s3cr3t@', 'smtp://u:s3cr3t%@h']) {
      expect(() => read({ FOREST_SMTP_URL: url, ...MAIL })).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining('s3cr3t') }),
      );
    }
  });
});

describe('email settings declared for --help', () => {
  it('lists exactly the settings the channel reads', () => {
    expect(EMAIL_PLUGIN_SETTINGS.map((s) => s.env)).toEqual([...EMAIL_SETTINGS]);
    expect(getForestPluginInfo(EmailAlertPlugin)?.settings).toBe(EMAIL_PLUGIN_SETTINGS);
  });
});
