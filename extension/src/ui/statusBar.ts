// Status bar item fed by `alpaca/status` (indexing n% / ready (N docs) / error); click → Show Status.

import { Disposable, StatusBarAlignment, StatusBarItem, ThemeColor, window } from 'vscode';
import { statusView } from '../core/status';
import { AlpacaClient } from '../common/client';

export const SHOW_STATUS_COMMAND = 'alpaca.showStatus';

export class StatusBar implements Disposable {
    private readonly item: StatusBarItem;
    private readonly disposables: Disposable[] = [];

    constructor(private readonly server: AlpacaClient) {
        this.item = window.createStatusBarItem('alpaca.status', StatusBarAlignment.Left, 10);
        this.item.name = 'Alpaca';
        this.item.command = SHOW_STATUS_COMMAND;
        this.disposables.push(
            this.item,
            server.onDidChangeState(() => this.update()),
            server.onStatus(() => this.update()),
        );
        this.update();
        this.item.show();
    }

    private update(): void {
        const view = statusView(this.server.state, this.server.lastStatus);
        this.item.text = view.text;
        this.item.tooltip = this.server.state === 'failed' && this.server.failureReason ? `Alpaca: ${this.server.failureReason}` : view.tooltip;
        this.item.backgroundColor =
            view.severity === 'error'
                ? new ThemeColor('statusBarItem.errorBackground')
                : view.severity === 'warning'
                  ? new ThemeColor('statusBarItem.warningBackground')
                  : undefined;
    }

    dispose(): void {
        this.disposables.forEach((d) => d.dispose());
    }
}
