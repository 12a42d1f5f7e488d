"""Sync calls into the async client, for the CLI and sync library callers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_thread = threading.local()
_background: asyncio.AbstractEventLoop | None = None
_background_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    """One event loop on a daemon thread, for sync calls made from inside a running loop (a
    notebook cell, an async web handler), where the caller's own loop cannot be run."""
    global _background
    with _background_lock:
        if _background is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="assistant-llm", daemon=True).start()
            _background = loop
        return _background


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code (also when the caller already runs an event loop).

    Each thread keeps one event loop from call to call, so the openai client made on it, and its
    kept-alive connections, serve the next call too.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return asyncio.run_coroutine_threadsafe(coro, _background_loop()).result()
    loop: asyncio.AbstractEventLoop | None = getattr(_thread, "loop", None)
    # A loop inherited through fork (a batch worker) has lost its executor's threads: make anew.
    if loop is None or loop.is_closed() or getattr(_thread, "pid", None) != os.getpid():
        loop = _thread.loop = asyncio.new_event_loop()
        _thread.pid = os.getpid()
    task = loop.create_task(coro)
    try:
        return loop.run_until_complete(task)
    except BaseException:
        # Interrupted (Ctrl-C) mid-call: cancel it, or it would resume inside the next call.
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        raise
