import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildWebviewHtml, contentSecurityPolicy, escapeHtml, makeNonce } from '../../extension/html';

const opts = {
  cspSource: 'https://abc.vscode-cdn.net',
  nonce: makeNonce(),
  scriptUri: 'https://abc.vscode-cdn.net/ext/dist/webview/panel.js',
  styleUri: 'https://abc.vscode-cdn.net/ext/dist/webview/panel.css',
  title: 'Bistability: a <b>"model"</b>',
  view: 'bistability' as const,
};

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((p) => p[0])
      .map((p) => [p[0], p.slice(1)]),
  );
}

test('nonces are fresh 128-bit random values in base64', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const n = makeNonce();
    assert.equal(Buffer.from(n, 'base64').length, 16);
    assert.ok(!seen.has(n));
    seen.add(n);
  }
});

test('the CSP denies by default and allows only our origin and the nonce', () => {
  const d = directives(contentSecurityPolicy(opts.cspSource, 'N0NCE'));
  assert.deepEqual(d.get('default-src'), ["'none'"]);
  assert.deepEqual(d.get('script-src'), ["'nonce-N0NCE'"]);
  assert.deepEqual(d.get('style-src'), [opts.cspSource, "'nonce-N0NCE'"]);
  assert.deepEqual(d.get('connect-src'), ["'none'"]);
  const all = [...d.values()].flat().join(' ');
  assert.doesNotMatch(all, /unsafe-inline|unsafe-eval|\*|https?:\/\/(?!abc\.vscode-cdn\.net)/);
});

test('the page loads exactly one script, with the nonce, from dist/webview, and escapes the title', () => {
  const html = buildWebviewHtml(opts);
  const scripts = [...html.matchAll(/<script\b([^>]*)>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0][1], new RegExp(`nonce="${opts.nonce.replace(/[+/=]/g, (c) => `\\${c}`)}"`));
  assert.match(scripts[0][1], /src="https:\/\/abc\.vscode-cdn\.net\/ext\/dist\/webview\/panel\.js"/);
  assert.match(html, /<link rel="stylesheet" href="https:\/\/abc\.vscode-cdn\.net\/ext\/dist\/webview\/panel\.css"/);
  assert.match(html, /<title>Bistability: a &lt;b&gt;&quot;model&quot;&lt;\/b&gt;<\/title>/);
  assert.doesNotMatch(html, /<b>"model"/);
  const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/);
  assert.ok(meta, 'CSP meta tag missing');
  assert.match(meta[1], new RegExp(`script-src 'nonce-${opts.nonce.replace(/[+/=]/g, (c) => `\\${c}`)}'`.replace(/'/g, '&#39;')));
  assert.match(html, /<body data-view="bistability">/);
  assert.doesNotMatch(html, /\son\w+=/, 'no inline event handlers');
});

test('a weak nonce is refused', () => {
  assert.throws(() => buildWebviewHtml({ ...opts, nonce: 'abc' }));
  assert.throws(() => buildWebviewHtml({ ...opts, nonce: 'x" onload="alert(1)' + 'a'.repeat(20) }));
});

test('escapeHtml covers the five HTML specials', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});
