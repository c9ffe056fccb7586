import { OutputBuffer, boundText, cutUtf8, thrownText, valueText } from './output-buffer';

describe('output text', () => {
  it('cuts UTF-8 text on a character boundary', () => {
    expect(cutUtf8('aé€😀', 1)).toBe('a');
    expect(cutUtf8('aé€😀', 2)).toBe('a');
    expect(cutUtf8('aé€😀', 3)).toBe('aé');
    expect(cutUtf8('aé€😀', 6)).toBe('aé€');
    expect(cutUtf8('aé€😀', 9)).toBe('aé€');
    expect(cutUtf8('aé€😀', 10)).toBe('aé€😀');
  });

  it('keeps text within the limit untouched and bounds longer text, marker included', () => {
    expect(boundText('short', 128)).toBe('short');
    for (const limit of [128, 129, 200, 1000]) {
      for (const text of ['x'.repeat(5000), '€'.repeat(3000), '😀a'.repeat(999)]) {
        const bounded = boundText(text, limit);
        expect(Buffer.byteLength(bounded)).toBeLessThanOrEqual(limit);
        expect(bounded).not.toContain('\uFFFD');
        const kept = bounded.slice(0, bounded.indexOf('\n…[truncated'));
        expect(text.startsWith(kept)).toBe(true);
        const dropped = Number(/truncated: (\d+) more bytes/.exec(bounded)?.[1]);
        expect(dropped).toBe(Buffer.byteLength(text) - Buffer.byteLength(kept));
      }
    }
  });

  it('OutputBuffer keeps the head across appends and reports what it dropped', () => {
    const buffer = new OutputBuffer(128);
    buffer.append('first line\n');
    expect(buffer.toString()).toBe('first line\n');
    for (let i = 0; i < 50; i++) buffer.append(`line ${i}\n`);
    const text = buffer.toString();
    expect(buffer.truncated).toBe(true);
    expect(text.startsWith('first line\nline 0\nline 1\n')).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(128);
    expect(text).toMatch(/\n…\[truncated: \d+ more bytes not kept\]\n$/);
  });

  it('renders values and thrown things', () => {
    expect(valueText('as is')).toBe('as is');
    expect(valueText({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(valueText(10n)).toBe('10');
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    expect(valueText(circular)).toBe("<ref *1> { name: 'loop', self: [Circular *1] }");
    expect(thrownText('text')).toBe('text');
    expect(thrownText(null)).toBe('null');
    const error = new TypeError('bad type');
    error.stack = 'custom stack without the message';
    expect(thrownText(error)).toBe('TypeError: bad type\ncustom stack without the message');
  });
});
