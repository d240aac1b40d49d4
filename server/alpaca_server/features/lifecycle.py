"""initialize / initialized / configuration changes / shutdown.

`initialize` returns at once; the index is opened and synced on the engine's worker thread after
`initialized`, with `$/progress` and `alpaca/status` notifications.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from alpaca_server import settings as settings_mod
from alpaca_server.feature import Feature
from alpaca_server.queries import uri_to_path

if TYPE_CHECKING:
    from alpaca_server.server import AlpacaServer

log = logging.getLogger(__name__)


class LifecycleFeature(Feature):
    def __init__(self, server: AlpacaServer) -> None:
        super().__init__(server)
        self.init_has_settings = False  # initializationOptions carried an `alpaca` section

    def register(self) -> None:
        self.on(types.INITIALIZE, self.initialize)
        self.on(types.INITIALIZED, self.initialized)
        self.on(types.WORKSPACE_DID_CHANGE_CONFIGURATION, self.did_change_configuration)
        self.on(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, self.did_change_workspace_folders)
        self.on(types.WORKSPACE_DID_CHANGE_WATCHED_FILES, self.did_change_watched_files)
        self.on(types.SHUTDOWN, self.shutdown)

    async def initialize(self, params: types.InitializeParams) -> None:
        ls = self.server
        ls.loop = asyncio.get_running_loop()
        ls.settings = settings_mod.parse(params.initialization_options)
        self.init_has_settings = settings_mod.section_of(params.initialization_options) is not None

    async def initialized(self, params: types.InitializedParams) -> None:
        settings = self.server.settings
        if not self.init_has_settings:
            settings = await self._pull(settings)
        self.server.apply_settings(settings)

    async def _pull(self, base: settings_mod.Settings) -> settings_mod.Settings:
        """Ask the client for the `alpaca` section (workspace/configuration), if it supports that."""
        ls = self.server
        caps = ls.client_capabilities
        if not (caps and caps.workspace and caps.workspace.configuration):
            return base
        folders = ls.workspace_folders()
        scoped = folders if len(folders) > 1 else []  # multi-root: then each folder's own section
        items = [types.ConfigurationItem(section=settings_mod.SECTION)] + [
            types.ConfigurationItem(scope_uri=folder.as_uri(), section=settings_mod.SECTION) for folder in scoped]
        try:
            result = await asyncio.wait_for(
                ls.workspace_configuration_async(types.ConfigurationParams(items=items)), timeout=5)
        except Exception as exc:  # noqa: BLE001 - the editor keeps working; logged
            log.info("workspace/configuration failed: %s", exc)
            return base
        result = settings_mod.as_plain(result or [])
        if not result or not isinstance(result[0], dict):
            return base
        section = dict(result[0])
        if scoped and len(result) == len(items):
            section["folders"] = [{"path": str(folder), "docsPaths": (own or {}).get("docsPaths") or []}
                                  for folder, own in zip(scoped, result[1:]) if isinstance(own, (dict, type(None)))]
        return settings_mod.parse({settings_mod.SECTION: section}, base)

    async def did_change_configuration(self, params: types.DidChangeConfigurationParams) -> None:
        ls = self.server
        if settings_mod.section_of(params.settings) is not None:
            settings = settings_mod.parse(params.settings, ls.settings)
        else:  # pull model: the notification only says "something changed"
            settings = await self._pull(ls.settings)
        ls.apply_settings(settings)
        ls.notify("alpaca/status", ls.status())

    def did_change_workspace_folders(self, params: types.DidChangeWorkspaceFoldersParams) -> None:
        """Default and per-folder roots follow the workspace folders (the engine reconfigures only if
        the roots really changed)."""
        self.server.apply_settings(self.server.settings)

    def did_change_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        paths = []
        for change in params.changes:
            try:
                path = uri_to_path(change.uri)
            except ValueError:
                continue
            if self.server.engine.is_docs_file(path):
                paths.append(path)
        if paths:
            self.server.files_changed(paths)

    def shutdown(self, params) -> None:
        self.server.close()
