"""Streaming: the reply text passed on to a sink (the terminal) while the model writes its JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

StreamSink = Callable[[str], None]


class FieldStream:
    """Pulls one string field out of a JSON object as it streams in, and passes its text on."""

    def __init__(self, name: str, sink: StreamSink) -> None:
        self._opening = re.compile(r'"' + re.escape(name) + r'"\s*:\s*"')
        self._sink = sink
        self._buffer = ""
        self._inside = False
        self._done = False
        self._escape = ""

    def feed(self, chunk: str) -> None:
        if self._done:
            return
        if not self._inside:
            self._buffer += chunk
            m = self._opening.search(self._buffer)
            if not m:
                return
            self._inside = True
            chunk, self._buffer = self._buffer[m.end() :], ""
        out: list[str] = []
        for ch in chunk:
            if self._escape:
                self._escape += ch
                if self._escape[1] == "u" and len(self._escape) < 6:
                    continue
                out.append(_unescape(self._escape))
                self._escape = ""
            elif ch == "\\":
                self._escape = ch
            elif ch == '"':
                self._done = True
                break
            else:
                out.append(ch)
        if out:
            self._sink("".join(out))


def _unescape(seq: str) -> str:
    try:
        return str(json.loads(f'"{seq}"'))
    except json.JSONDecodeError:
        return seq[1:]
