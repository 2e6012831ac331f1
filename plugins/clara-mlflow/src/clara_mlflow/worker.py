"""``Worker``: hands a tracker's operations to its logging process
(:mod:`clara_mlflow.child`), so that training never waits for MLflow.

``submit`` only queues: a thread writes the queue to the process, another reads its
answers, and neither holds the interpreter lock while it waits. After the first
failure the process runs nothing more; what was not done is :attr:`Worker.missed`.

>>> worker = Worker({"uri": "nosuchscheme://x", "kind": "other"}, "demo")
>>> worker.submit("the run", {"op": "validate", "run_name": "v", "tags": {}, "params": {}})
>>> worker.submit("epoch 1", {"op": "epoch", "epoch": 1, "values": {"loss": 0.5}})
>>> worker.close(timeout=60)
True
>>> worker.failure.split(":")[0], worker.missed
('UnsupportedModelRegistryStoreURIException', ['the run', 'epoch 1'])
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from typing import IO, Any

#: a failure's message is cut to this many characters (a server's error page is long)
MESSAGE_CHARS = 300


class Worker:
    """The logging process of one tracked run, logging to the store ``store`` (a
    :class:`~clara_mlflow.store.Store` as a dict) in ``experiment``; its own output
    (MLflow's messages) goes to ``log_file`` when given."""

    def __init__(self, store: dict[str, Any], experiment: str, log_file: str | None = None,
                 ) -> None:
        self._lock = threading.Lock()
        self._sent: list[str] = []
        self._done: set[int] = set()
        self._failure: str | None = None
        self._ended = False  # the process said it is done
        self.run_id: str | None = None
        self._outbox: queue.Queue[str | None] = queue.Queue()
        self._closed = False
        self._proc = self._start(log_file)
        self._outbox.put(json.dumps({"store": store, "experiment": experiment}))
        self._threads = [threading.Thread(target=self._write, name="clara-mlflow-writer",
                                          daemon=True),
                         threading.Thread(target=self._read, name="clara-mlflow-reader",
                                          daemon=True)] if self._proc else []
        for thread in self._threads:
            thread.start()

    def _start(self, log_file: str | None) -> subprocess.Popen[str] | None:
        env = dict(os.environ)  # the same packages as this process, whatever its path
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        log: IO[Any] | int = subprocess.DEVNULL
        try:
            if log_file:
                os.makedirs(os.path.dirname(log_file), exist_ok=True)
                log = open(log_file, "a", encoding="utf-8")
            return subprocess.Popen([sys.executable, "-m", "clara_mlflow.child"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                    text=True, encoding="utf-8", env=env)
        except OSError as exc:
            self._failure = f"the logging process did not start: {describe(exc)}"
            return None
        finally:
            if not isinstance(log, int):
                log.close()

    @property
    def failure(self) -> str | None:
        """The first failure, one line (None while every operation worked)."""
        with self._lock:
            return self._failure

    @property
    def missed(self) -> list[str]:
        """What was not logged, in order (read it after :meth:`close`)."""
        with self._lock:
            return [what for i, what in enumerate(self._sent) if i not in self._done]

    def submit(self, what: str, op: dict[str, Any]) -> None:
        """Queue the operation ``op``; ``what`` names what it logs."""
        with self._lock:
            i = len(self._sent)
            self._sent.append(what)
            if self._closed or self._failure is not None:
                return  # nothing more goes to a store that failed
        self._outbox.put(json.dumps({"i": i, **op}))

    def close(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the operations submitted; True when the
        process finished in time (having done them, or stopped at a failure). A process
        still busy then is stopped."""
        if not self._closed:
            self._closed = True
            self._outbox.put(None)
        if self._proc is None:
            return False
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            with self._lock:
                self._failure = self._failure or (
                    f"the store did not answer within {timeout:g} s")
        for thread in self._threads:
            thread.join(5)
        with self._lock:
            if not self._ended and self._failure is None:
                self._failure = (f"the logging process ended unexpectedly (exit code "
                                 f"{self._proc.returncode})")
            return self._ended

    # -- the threads -----------------------------------------------------------------------

    def _write(self) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        stdin = self._proc.stdin
        try:
            while True:
                line = self._outbox.get()
                if line is None:
                    break
                stdin.write(line + "\n")
                stdin.flush()
        except (OSError, ValueError):
            pass  # the process ended; _read says why
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                if "ok" in answer:
                    self._done.add(int(answer["ok"]))
                    self.run_id = answer.get("run_id") or self.run_id
                if "failure" in answer and self._failure is None:
                    self._failure = str(answer["failure"])
                if answer.get("done"):
                    self._ended = True


def describe(exc: BaseException) -> str:
    """One line for ``exc``: its type and the first line of its message, cut short; for
    an error that wraps a system error (a refused connection, a full disk), that one.

    >>> describe(OSError(28, "No space left on device"))
    'OSError: [Errno 28] No space left on device'
    >>> try:
    ...     try:
    ...         raise ConnectionRefusedError(111, "Connection refused")
    ...     except OSError as e:
    ...         raise RuntimeError("API request to http://h/api failed with ...") from e
    ... except RuntimeError as outer:
    ...     describe(outer)
    'ConnectionRefusedError: [Errno 111] Connection refused'
    """
    exc = _system_error(exc) or exc
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line if len(line) <= MESSAGE_CHARS else line[:MESSAGE_CHARS - 3] + "..."


def _system_error(exc: BaseException) -> OSError | None:
    """The innermost ``OSError`` of ``exc``'s chain (causes and contexts), if any."""
    found, seen, current = None, set(), exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            found = current
        current = current.__cause__ or current.__context__
    return found


__all__ = ["Worker", "describe"]
