"""The server factory (esbonio's `create_language_server`): the server class and the features it
loads, in one place. The CLI calls it; nothing below imports it."""

from __future__ import annotations

from collections.abc import Iterable

from alpaca_server.feature import Feature
from alpaca_server.features.ask import AskFeature
from alpaca_server.features.commands import CommandsFeature
from alpaca_server.features.documents import DocumentsFeature
from alpaca_server.features.hover import HoverFeature
from alpaca_server.features.lifecycle import LifecycleFeature
from alpaca_server.features.models import ModelsFeature
from alpaca_server.features.tune import TuneFeature
from alpaca_server.server import AlpacaServer

FEATURES: tuple[type[Feature], ...] = (LifecycleFeature, DocumentsFeature, CommandsFeature, AskFeature,
                                       HoverFeature, ModelsFeature, TuneFeature)


def create_language_server(server_cls: type[AlpacaServer] = AlpacaServer,
                           features: Iterable[type[Feature]] = FEATURES) -> AlpacaServer:
    server = server_cls()
    for feature_cls in features:
        server.add_feature(feature_cls(server))
    return server
