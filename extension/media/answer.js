// Answer panel webview script. Content arrives pre-rendered (escaped) from the extension host;
// this script only places it and turns clicks and the follow-up box into messages. No remote
// resources, strict CSP. The current turn fills the fixed elements (#question, #answer, …);
// earlier turns arrive as whole sections for #history.
(function () {
    const vscode = acquireVsCodeApi();
    const $ = (id) => document.getElementById(id);
    let turn = -1;
    let seen = [];
    let updates = 0;
    let state = 'empty';

    function fill(id, html) {
        $(id).innerHTML = html || '';
        $(id).hidden = !html;
    }

    window.addEventListener('message', (event) => {
        const m = event.data;
        if (!m || m.type !== 'update') {
            return;
        }
        const newTurn = m.turn !== turn;
        if (newTurn) {
            turn = m.turn;
            seen = [];
            updates = 0;
        }
        updates += 1;
        if (seen[seen.length - 1] !== m.state) {
            seen.push(m.state);
        }
        state = m.state;
        document.body.dataset.state = m.state;
        document.body.dataset.seen = seen.join(',');
        document.body.dataset.updates = String(updates);
        document.body.dataset.turns = String(m.turns || 0);
        $('history').innerHTML = m.historyHtml || '';
        $('current').hidden = m.state === 'empty';
        $('question').textContent = m.question || '';
        fill('context', m.contextHtml);
        fill('query', m.queryHtml);
        $('answer').innerHTML = m.answerHtml || '';
        fill('verdict', m.verdictHtml);
        $('sources').innerHTML = m.sourcesHtml || '';
        $('sources-section').hidden = !m.sourcesHtml;
        $('related').innerHTML = m.relatedHtml || '';
        $('related-section').hidden = !m.relatedHtml;
        fill('notice', m.notice);
        $('notice').classList.toggle('error', m.state === 'error');
        $('meta').textContent = m.meta || '';
        const badge = { waiting: 'searching…', streaming: 'answering…', done: m.refused ? 'not in docs' : m.noModel ? 'no model' : 'done', cancelled: 'cancelled', error: 'error' }[m.state] || '';
        $('badge').textContent = badge;
        const running = m.state === 'waiting' || m.state === 'streaming';
        $('cancel').disabled = !running;
        $('copy').disabled = m.state === 'empty';
        $('new').disabled = !m.turns;
        $('send').disabled = running;
        $('follow-up-input').placeholder = m.turns
            ? 'Ask a follow-up question… (Enter to send, Shift+Enter for a new line)'
            : 'Ask a question about your docs… (Enter to send)';
        if (newTurn && m.turns > 1) {
            $('current').scrollIntoView({ block: 'start' });
        }
        vscode.setState({ question: m.question });
    });

    document.addEventListener('click', (event) => {
        const a = event.target instanceof Element ? event.target.closest('a') : null;
        if (!a) {
            return;
        }
        event.preventDefault();
        const past = a.closest('[data-turn]');
        const turnOf = past ? { turn: Number(past.dataset.turn) } : {};
        if (a.dataset.cite) {
            vscode.postMessage({ type: 'cite', n: Number(a.dataset.cite), ...turnOf });
        } else if (a.dataset.source) {
            vscode.postMessage({ type: 'source', n: Number(a.dataset.source), ...turnOf });
        } else if (a.dataset.related) {
            vscode.postMessage({ type: 'related', i: Number(a.dataset.related), ...turnOf });
        } else if (a.dataset.href) {
            vscode.postMessage({ type: 'link', href: a.dataset.href });
        }
    });

    function send() {
        const input = $('follow-up-input');
        const text = input.value.trim();
        if (!text || state === 'waiting' || state === 'streaming') {
            return;
        }
        vscode.postMessage({ type: 'followUp', text });
        input.value = '';
    }

    $('follow-up').addEventListener('submit', (event) => {
        event.preventDefault();
        send();
    });
    $('follow-up-input').addEventListener('keydown', (event) => {
        if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            send();
        }
    });
    $('cancel').addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
    $('copy').addEventListener('click', () => vscode.postMessage({ type: 'copy' }));
    $('new').addEventListener('click', () => {
        vscode.postMessage({ type: 'new' });
        $('follow-up-input').focus();
    });
    vscode.postMessage({ type: 'ready' });
})();
