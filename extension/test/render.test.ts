import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { source } from './fixtures';
import { escapeHtml, renderMarkdown, renderRelated, renderSources } from '../src/core/render';


describe('renderMarkdown', () => {
    it('renders markdown', () => {
        const html = renderMarkdown('# Title\n\nSome **bold** and `code`.\n\n- a\n- b');
        assert.match(html, /<h1>Title<\/h1>/);
        assert.match(html, /<strong>bold<\/strong>/);
        assert.match(html, /<code>code<\/code>/);
        assert.match(html, /<li>a<\/li>/);
    });

    it('escapes raw HTML instead of passing it through', () => {
        const html = renderMarkdown('Hello <script>alert(1)</script> <img src=x onerror=alert(1)>');
        assert.ok(!html.includes('<script>'), html);
        assert.ok(!html.includes('<img'), html);
        assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    });

    it('escapes HTML inside code blocks', () => {
        const html = renderMarkdown('```html\n<b onclick="x()">hi</b>\n```');
        assert.match(html, /&lt;b onclick=&quot;x\(\)&quot;&gt;hi&lt;\/b&gt;/);
    });

    it('drops javascript: and file: links, keeps http(s) links for the host to open', () => {
        const bad = renderMarkdown('[click](javascript:alert(1)) and [f](file:///etc/passwd)');
        assert.ok(!/href="javascript:/i.test(bad), bad);
        assert.ok(!/href="file:/i.test(bad), bad);
        const good = renderMarkdown('[docs](https://example.com/a?b=1&c=2)');
        assert.match(good, /<a href="https:\/\/example.com\/a\?b=1&amp;c=2" data-href="https:\/\/example.com\/a\?b=1&amp;c=2" class="ext-link"/);
    });

    it('does not render images (no remote resources)', () => {
        const html = renderMarkdown('![logo](https://example.com/x.png)');
        assert.ok(!html.includes('<img'), html);
    });

    it('links citations to known sources with their location in the title', () => {
        const html = renderMarkdown('Endpoints are encrypted [1]. See also [2, 3].', { sources: [source(1), source(2), source(3)], final: true });
        assert.match(html, /<a href="#" class="cite" data-cite="1" title="Doc 1 › Section — guide\/doc-1.md:10">1<\/a>/);
        assert.match(html, /\[<a [^>]*data-cite="2"[^>]*>2<\/a>, <a [^>]*data-cite="3"[^>]*>3<\/a>\]/);
    });

    it('expands citation ranges', () => {
        const html = renderMarkdown('All of them [1-3].', { sources: [source(1), source(2), source(3)], final: true });
        assert.equal((html.match(/data-cite=/g) ?? []).length, 3);
    });

    it('leaves unknown citations as plain text once final, links them while streaming', () => {
        const final = renderMarkdown('Claim [7].', { sources: [source(1)], final: true });
        assert.ok(!final.includes('data-cite'), final);
        assert.match(final, /\[7\]/);
        const streaming = renderMarkdown('Claim [7].', { final: false });
        assert.match(streaming, /data-cite="7"/);
    });

    it('does not treat markdown links or non-numeric brackets as citations', () => {
        const html = renderMarkdown('[1](https://example.com) [note] [a1] [1a]', { sources: [source(1)], final: true });
        assert.ok(!html.includes('data-cite'), html);
        assert.match(html, /data-href="https:\/\/example.com"/);
        assert.match(html, /\[note\] \[a1\] \[1a\]/);
    });

    it('keeps citations inside bold text (the extractive answer format)', () => {
        const html = renderMarkdown('**[1] Page › Section** — text [1]', { sources: [source(1)], final: true });
        assert.equal((html.match(/data-cite="1"/g) ?? []).length, 2);
    });

    it('escapes source titles in citation tooltips', () => {
        const html = renderMarkdown('x [1]', { sources: [source(1, { heading_path: '<b>"evil"</b>' })], final: true });
        assert.match(html, /title="&lt;b&gt;&quot;evil&quot;&lt;\/b&gt; — /);
    });
});

describe('renderSources / renderRelated', () => {
    it('lists sources with their numbers and escaped labels', () => {
        const html = renderSources([source(1), source(2, { heading_path: 'A & <B>' })]);
        assert.match(html, /<li id="source-1" value="1"><a href="#" data-source="1"/);
        assert.match(html, /A &amp; &lt;B&gt;/);
        assert.match(html, /guide\/doc-2.md:20/);
    });

    it('renders nothing for empty lists', () => {
        assert.equal(renderSources([]), '');
        assert.equal(renderRelated([]), '');
    });

    it('indexes related entries', () => {
        const html = renderRelated([source(4), source(5)]);
        assert.match(html, /data-related="0"/);
        assert.match(html, /data-related="1"/);
    });

    it('escapeHtml escapes the five specials', () => {
        assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    });
});
