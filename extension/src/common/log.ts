// The "Alpaca" LogOutputChannel: the extension's own lines and the server's log (stderr + LSP logs).

import * as util from 'util';
import { Disposable, LogOutputChannel, window } from 'vscode';

let channel: LogOutputChannel | undefined;

export function createLog(): LogOutputChannel & Disposable {
    channel = window.createOutputChannel('Alpaca', { log: true });
    return channel;
}

export function getLog(): LogOutputChannel | undefined {
    return channel;
}

export function showLog(): void {
    channel?.show(true);
}

export const log = {
    info: (...args: unknown[]) => channel?.info(util.format(...args)),
    warn: (...args: unknown[]) => channel?.warn(util.format(...args)),
    error: (...args: unknown[]) => channel?.error(util.format(...args)),
    debug: (...args: unknown[]) => channel?.debug(util.format(...args)),
};
