// Reading the `alpaca.*` configuration through the VS Code API (the mapping itself is in core/settings).

import * as os from 'os';
import * as path from 'path';
import { ConfigurationChangeEvent, ExtensionContext, workspace } from 'vscode';
import { InterpreterInputs } from '../core/interpreter';
import { ServerSettings } from '../core/protocol';
import { RawSettings, RESTART_KEYS, SECTION, SERVER_KEYS, substitute, toFolderSettings, toServerSettings } from '../core/settings';

export function workspaceFolderPath(): string | undefined {
    return workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function mappingContext(context: ExtensionContext) {
    const storage = context.storageUri?.fsPath ?? context.globalStorageUri.fsPath;
    return { workspaceFolder: workspaceFolderPath(), defaultIndexPath: path.join(storage, 'index'), home: os.homedir() };
}

export function readServerSettings(context: ExtensionContext): ServerSettings {
    const cfg = workspace.getConfiguration(SECTION);
    const raw: RawSettings = {};
    for (const key of SERVER_KEYS) {
        raw[key] = cfg.get(key);
    }
    const ctx = mappingContext(context);
    const settings = toServerSettings(raw, ctx);
    const folders = workspace.workspaceFolders ?? [];
    if (folders.length > 1) {
        // docsPaths is resource-scoped: each folder's own value (or the workspace's/user's it inherits)
        settings.folders = folders.map((f) => toFolderSettings(f.uri.fsPath, workspace.getConfiguration(SECTION, f.uri).get('docsPaths'), ctx));
    }
    return settings;
}

export function readInterpreterSettings(context: ExtensionContext): InterpreterInputs {
    const cfg = workspace.getConfiguration(SECTION);
    const ctx = mappingContext(context);
    return {
        setting: substitute(cfg.get<string>('pythonPath') ?? '', ctx),
        aliasSetting: substitute(cfg.get<string>('python.interpreterPath') ?? '', ctx),
    };
}

export function needsRestart(e: ConfigurationChangeEvent): boolean {
    return RESTART_KEYS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
}

export function affectsServer(e: ConfigurationChangeEvent): boolean {
    return SERVER_KEYS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
}

/** `alpaca.server.installSource`; empty: the wheel shipped in the .vsix. */
export function installSource(): string {
    return (workspace.getConfiguration(SECTION).get<string>('server.installSource') ?? '').trim();
}
