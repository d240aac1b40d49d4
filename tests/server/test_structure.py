"""The server's shape, in-process: the factory loads every feature, features never import the server
module (so there is no import cycle), and `run_task` keeps its tasks and logs the ones that fail."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys

import pytest

from alpaca_server.factory import FEATURES, create_language_server
from alpaca_server.server import AlpacaServer


def test_features_do_not_import_the_server_module():
    code = ("import sys; import alpaca_server.features.ask, alpaca_server.features.commands, "
            "alpaca_server.features.documents, alpaca_server.features.hover, alpaca_server.features.lifecycle, "
            "alpaca_server.features.models, alpaca_server.features.tune; print('alpaca_server.server' in sys.modules, "
            "'alpaca_server.features.commands' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
    # and neither ask nor models reaches into commands for its helpers
    code = ("import sys; import alpaca_server.features.ask, alpaca_server.features.models; "
            "print('alpaca_server.features.commands' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False"]


def test_factory_loads_each_feature_once_and_registers_its_commands():
    server = create_language_server()
    try:
        assert [type(server.get_feature(cls)) for cls in FEATURES] == list(FEATURES)
        commands = set(server.protocol.fm.commands)
        assert {"alpaca.search", "alpaca.related", "alpaca.status", "alpaca.reindex", "alpaca.addDocuments",
                "alpaca.ask", "alpaca.cancel", "alpaca.models.status", "alpaca.models.use", "alpaca.tune",
                "alpaca.tuneCancel"} <= commands
        with pytest.raises(RuntimeError, match="already loaded"):
            server.add_feature(FEATURES[0](server))
    finally:
        server.close()


@pytest.mark.asyncio
async def test_run_task_keeps_its_tasks_and_logs_failures(caplog):
    server = AlpacaServer()
    try:
        async def fail():
            raise ValueError("no such doc")

        async def sleep():
            await asyncio.sleep(10)

        with caplog.at_level(logging.ERROR, logger="alpaca_server"):
            failing = server.run_task(fail(), name="failing")
            cancelled = server.run_task(sleep(), name="sleeping")
            assert {failing, cancelled} <= server._tasks  # held until done
            cancelled.cancel()
            await asyncio.wait([failing, cancelled])
            await asyncio.sleep(0)  # done callbacks run on the next loop turn
        assert not server._tasks
        failures = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(failures) == 1 and "failing" in failures[0].getMessage()
        assert "no such doc" in str(failures[0].exc_info[1])
    finally:
        server.close()
