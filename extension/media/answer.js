// Answer panel webview script. Content arrives pre-rendered (escaped) from the extension host;
// this script only places it and turns clicks into messages. No remote resources, strict CSP.
(function () {
    const vscode = acquireVsCodeApi();
    const $ = (id) => document.getElementById(id);
    let state = 'waiting';
    let question = '';
    let seen = [];
    let updates = 0;

    window.addEventListener('message', (event) => {
        const m = event.data;
        if (!m || m.type !== 'update') {
            return;
        }
        state = m.state;
        if (m.question !== question) {
            question = m.question;
            seen = [];
            updates = 0;
        }
        updates += 1;
        if (seen[seen.length - 1] !== m.state) {
            seen.push(m.state);
        }
        document.body.dataset.state = m.state;
        document.body.dataset.seen = seen.join(',');
        document.body.dataset.updates = String(updates);
        $('question').textContent = m.question || '';
        $('answer').innerHTML = m.answerHtml || '';
        $('sources').innerHTML = m.sourcesHtml || '';
        $('sources-section').hidden = !m.sourcesHtml;
        $('related').innerHTML = m.relatedHtml || '';
        $('related-section').hidden = !m.relatedHtml;
        $('notice').innerHTML = m.notice || '';
        $('notice').hidden = !m.notice;
        $('notice').classList.toggle('error', m.state === 'error');
        $('meta').textContent = m.meta || '';
        const badge = { waiting: 'searching…', streaming: 'answering…', done: m.refused ? 'not in docs' : m.noModel ? 'no model' : 'done', cancelled: 'cancelled', error: 'error' }[m.state] || '';
        $('badge').textContent = badge;
        $('cancel').disabled = !(m.state === 'waiting' || m.state === 'streaming');
        vscode.setState({ question: m.question });
    });

    document.addEventListener('click', (event) => {
        const a = event.target instanceof Element ? event.target.closest('a') : null;
        if (!a) {
            return;
        }
        event.preventDefault();
        if (a.dataset.cite) {
            vscode.postMessage({ type: 'cite', n: Number(a.dataset.cite) });
        } else if (a.dataset.source) {
            vscode.postMessage({ type: 'source', n: Number(a.dataset.source) });
        } else if (a.dataset.related) {
            vscode.postMessage({ type: 'related', i: Number(a.dataset.related) });
        } else if (a.dataset.href) {
            vscode.postMessage({ type: 'link', href: a.dataset.href });
        }
    });

    $('cancel').addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
    $('copy').addEventListener('click', () => vscode.postMessage({ type: 'copy' }));
    vscode.postMessage({ type: 'ready' });
})();
