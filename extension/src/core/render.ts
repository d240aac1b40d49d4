// Answer markdown → safe HTML for the webview. Pure (markdown-it only), unit-tested.
//
// Safety: raw HTML in the answer is escaped (html: false), images are not rendered (no remote
// resources), links keep only http(s)/mailto targets and are opened by the extension host, and
// citations become `<a data-cite="n">` that the panel resolves against the final sources.

import MarkdownIt from 'markdown-it';
import { CITATION_PATTERN, describe, parseCitationGroup } from './citations';
import { DocResult, Source } from './protocol';

type InlineRule = Parameters<MarkdownIt['inline']['ruler']['after']>[2];
type RenderRule = NonNullable<MarkdownIt['renderer']['rules']['text']>;

export interface RenderOptions {
    /** Sources known so far (the final message); citations to unknown numbers render as plain text once final. */
    sources?: readonly Source[];
    /** While streaming every citation is linked: the sources arrive with the final message. */
    final?: boolean;
}

const SAFE_LINK = /^(https?:|mailto:)/i;

export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const citationRule: InlineRule = (state, silent) => {
    if (state.src.charCodeAt(state.pos) !== 0x5b /* [ */) {
        return false;
    }
    const m = CITATION_PATTERN.exec(state.src.slice(state.pos));
    if (!m) {
        return false;
    }
    const nums = parseCitationGroup(m[1]);
    if (nums.length === 0) {
        return false;
    }
    if (!silent) {
        const token = state.push('citation', '', 0);
        token.meta = { nums };
        token.content = m[0];
    }
    state.pos += m[0].length;
    return true;
};

function makeMarkdown(): MarkdownIt {
    const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: false });
    md.disable(['image']);
    md.inline.ruler.after('link', 'citation', citationRule);
    md.validateLink = (url: string) => SAFE_LINK.test(url.trim());
    const defaultLinkOpen: RenderRule = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
    md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
        const token = tokens[idx];
        const href = token.attrGet('href') ?? '';
        token.attrSet('data-href', href);
        token.attrSet('class', 'ext-link');
        token.attrSet('title', href);
        return defaultLinkOpen(tokens, idx, options, env, self);
    };
    md.renderer.rules.citation = (tokens, idx, _options, env: RenderOptions) => {
        const nums: number[] = tokens[idx].meta.nums;
        const sources = env.sources ?? [];
        const parts = nums.map((n) => {
            const source = sources.find((s) => s.n === n);
            if (!source && env.final) {
                return escapeHtml(String(n));
            }
            const title = source ? escapeHtml(`${describe(source).label} — ${describe(source).detail}`) : `Source ${n}`;
            return `<a href="#" class="cite" data-cite="${n}" title="${title}">${n}</a>`;
        });
        return `<span class="citation">[${parts.join(', ')}]</span>`;
    };
    return md;
}

let shared: MarkdownIt | undefined;

export function renderMarkdown(markdown: string, options: RenderOptions = {}): string {
    shared = shared ?? makeMarkdown();
    return shared.render(markdown, { ...options });
}

function sourceLink(attr: string, key: number, label: string, detail: string, extra = ''): string {
    return `<a href="#" ${attr}="${key}" title="Open ${escapeHtml(detail)}">${escapeHtml(label)}</a>${extra} <span class="path">${escapeHtml(detail)}</span>`;
}

export function renderSources(sources: readonly Source[]): string {
    if (!sources.length) {
        return '';
    }
    const items = sources.map((s) => {
        const { label, detail } = describe(s);
        return `<li id="source-${s.n}" value="${s.n}">${sourceLink('data-source', s.n, label, detail)}</li>`;
    });
    return `<ol class="sources">${items.join('')}</ol>`;
}

export function renderRelated(related: readonly DocResult[]): string {
    if (!related.length) {
        return '';
    }
    const items = related.map((r, i) => {
        const { label, detail } = describe(r);
        return `<li>${sourceLink('data-related', i, label, detail)}</li>`;
    });
    return `<ul class="related">${items.join('')}</ul>`;
}
