import { describe, expect, it } from 'vitest';
import { Masker, MIN_MASK_LENGTH, formsOf } from '../../src/secrets/masker.js';

describe('Masker', () => {
  it('masks a value, its base64 and its URL-encoded forms', () => {
    const secret = 'p@ss w0rd/+=?&x';
    const m = new Masker([secret]);
    const b64 = Buffer.from(secret).toString('base64');
    const b64url = Buffer.from(secret).toString('base64url');
    const url = encodeURIComponent(secret);
    const text = `plain=${secret} b64=${b64} b64url=${b64url} url=${url} form=${url.replace(/%20/g, '+')}`;
    const out = m.mask(text);
    expect(out).toBe('plain=*** b64=*** b64url=*** url=*** form=***');
    expect(m.leaks(out)).toBe(false);
    expect(m.leaks(text)).toBe(true);
  });

  it('masks base64 without padding and the JSON-escaped form', () => {
    const secret = 'ab"c\\de';
    const m = new Masker([secret]);
    const unpadded = Buffer.from(secret).toString('base64').replace(/=+$/, '');
    expect(m.mask(`token ${unpadded}.`)).toBe('token ***.');
    expect(m.mask(JSON.stringify({ v: secret }))).toBe('{"v":"***"}');
  });

  it('masks every occurrence, the longest value first', () => {
    const m = new Masker(['abcd', 'abcdefgh']);
    expect(m.mask('abcdefgh abcd abcdabcd')).toBe('*** *** ******');
  });

  it('ignores values shorter than the minimum length', () => {
    const m = new Masker(['abc', 'x']);
    expect(MIN_MASK_LENGTH).toBe(4);
    expect(m.size).toBe(0);
    expect(m.mask('abc x abc')).toBe('abc x abc');
  });

  it('masks each line of a multi-line value', () => {
    const key = '-----BEGIN KEY-----\nMIIEabcdefghijkl\nQWERTYUIOPasdf\n-----END KEY-----';
    const m = new Masker([key]);
    expect(m.mask(`got ${key}`)).toBe('got ***');
    expect(m.mask('line: QWERTYUIOPasdf')).toBe('line: ***');
  });

  it('treats regular expression characters literally', () => {
    const m = new Masker(['a.b*c(d)[e]$^|\\/']);
    expect(m.mask('x a.b*c(d)[e]$^|\\/ y aXb')).toBe('x *** y aXb');
  });

  it('picks up values added later', () => {
    const m = new Masker();
    expect(m.mask('hunter22 here')).toBe('hunter22 here');
    m.add('hunter22');
    expect(m.mask('hunter22 here')).toBe('*** here');
  });

  it('masks strings inside structured data, keys included', () => {
    const m = new Masker(['s3cr3t-value']);
    const data = { a: 's3cr3t-value', list: [1, 'x s3cr3t-value y', { deep: 's3cr3t-value' }], 's3cr3t-value': true, n: null, ok: 5 };
    const out = m.maskDeep(data);
    expect(out).toEqual({ a: '***', list: [1, 'x *** y', { deep: '***' }], '***': true, n: null, ok: 5 });
    expect(data.a).toBe('s3cr3t-value'); // the input is not changed
  });

  it('lists the forms it masks', () => {
    const forms = formsOf('hello world');
    expect(forms).toContain('hello world');
    expect(forms).toContain('aGVsbG8gd29ybGQ=');
    expect(forms).toContain('hello%20world');
    expect(forms).toContain('hello+world');
  });

  it('masks every percent-encoding: strict RFC 3986, lowercase hex, partial, form, of the base64 forms too', () => {
    const secret = "it's (a) s3cret*! ~é/+=";
    const m = new Masker([secret]);
    // Python's quote(v, safe=''): everything but A-Za-z0-9_.-~ escaped, uppercase hex.
    const strict = [...Buffer.from(secret)].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'))).join('');
    expect(strict).toContain('%28a%29'); // ( and ) escaped, unlike encodeURIComponent
    const lower = strict.replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase());
    const eachByte = [...Buffer.from(secret)].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');
    const uric = encodeURIComponent(secret);
    const encodeUri = encodeURI(secret);
    const form = uric.replace(/%20/g, '+');
    const b64InUrl = encodeURIComponent(Buffer.from(secret).toString('base64')).replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase());
    for (const form_ of [strict, lower, eachByte, uric, encodeUri, form, b64InUrl]) {
      expect(m.mask(`url=https://x/?p=${form_}&q=1`), form_).toBe('url=https://x/?p=***&q=1');
    }
    // A % elsewhere in the line does not stop the plain value from being found.
    expect(m.mask(`100% ${secret}`)).toBe('100% ***');
    expect(m.mask('50% of nothing %zz')).toBe('50% of nothing %zz');
  });

  it('masks a value with a NUL, a newline or a lone surrogate in every form a message can show', () => {
    const withNul = 'abcd\u0000efgh';
    const m = new Masker([withNul, 'line-one\nline-two', 'x\ud800yz-tail']);
    // Node's own messages quote values with util.inspect.
    expect(m.mask(`Received 'abcd\\x00efgh'`)).toBe(`Received '***'`);
    expect(m.mask('first abcd then efgh')).toBe('first *** then ***');
    expect(m.mask('got line-two')).toBe('got ***');
    // A child process prints the lone surrogate as U+FFFD.
    expect(m.mask('x\ufffdyz-tail')).toBe('***');
  });

  it('masks many lines with many values correctly', () => {
    const values = Array.from({ length: 30 }, (_, i) => `secret-value-${i}-${'x'.repeat(i)}`);
    const m = new Masker(values);
    const lines = Array.from({ length: 20_000 }, (_, i) => (i % 100 === 0 ? `line ${i} ${values[i % 30]} end` : `line ${i}: nothing to see here, just output`));
    const out = lines.map((l) => m.mask(l));
    expect(out.filter((l) => l.includes('***'))).toHaveLength(200);
    expect(out.some((l) => l.includes('secret-value'))).toBe(false);
  });
});
