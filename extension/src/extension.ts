// Alpaca docs assistant: a thin client over the `alpaca_server` language server.
// One module per concern: common/ (log, config, python, setup, server), ui/ (answer panel,
// related view, status bar, commands, navigation, model set-up, search adaptation), core/ (pure logic,
// unit-tested).

import { ExtensionContext, workspace } from 'vscode';
import { affectsServer, needsRestart, readInterpreterSettings } from './common/config';
import { chooseInterpreter } from './core/interpreter';
import { createLog, log } from './common/log';
import { onDidChangePythonInterpreter, watchPythonExtension } from './common/python';
import { AlpacaClient } from './common/client';
import { AnswerPanel } from './ui/answerPanel';
import { registerChatParticipant } from './ui/chatParticipant';
import { registerCommands } from './ui/commands';
import { registerModelSetup } from './ui/modelSetup';
import { registerOpenCommand } from './ui/navigation';
import { RelatedView } from './ui/relatedView';
import { StatusBar } from './ui/statusBar';
import { registerTuneCommands } from './ui/tune';

let server: AlpacaClient | undefined;

export function activate(context: ExtensionContext): void {
    context.subscriptions.push(createLog());
    server = new AlpacaClient(context);
    const panel = new AnswerPanel(context, server);
    const related = new RelatedView(server);
    context.subscriptions.push(
        server,
        panel,
        related,
        new StatusBar(server),
        registerOpenCommand(),
        ...[registerChatParticipant(context, server)].filter((d) => d !== undefined),
        ...registerCommands(server, panel, () => related.refresh()),
        ...registerModelSetup(context, server),
        ...registerTuneCommands(server, context.workspaceState),
        workspace.onDidChangeWorkspaceFolders(() => void server?.updateSettings()),
        workspace.onDidChangeConfiguration((e) => {
            if (needsRestart(e)) {
                log.info('interpreter setting changed; restarting the server');
                void server?.restart();
            } else if (affectsServer(e)) {
                void server?.updateSettings();
            }
        }),
        onDidChangePythonInterpreter(() => {
            log.info("the Python extension's interpreter changed; restarting the server");
            void server?.restart();
        }),
    );
    // Lazy: the server starts after activation returns; the Python extension is only consulted
    // when alpaca.pythonPath is not set.
    setImmediate(() => {
        void server?.restart();
        if (chooseInterpreter(readInterpreterSettings(context)).source !== 'setting') {
            void watchPythonExtension(context.subscriptions);
        }
    });
}

export async function deactivate(): Promise<void> {
    await server?.stop();
}
