"""A server that does not answer is a type (``Unreachable``), not a phrase: follow and logs retry on it alone."""

from __future__ import annotations

import requests

from compiler.exit_codes import EXIT_USAGE
from compiler.submit.connection import ArgoConnection
from compiler.submit.errors import SubmitError, Unreachable
from compiler.submit.server import connection_error, unreachable


def test_a_refused_connection_is_unreachable_and_exit_2():
    conn = ArgoConnection(server="localhost:1")
    error = connection_error(conn, requests.exceptions.ConnectionError("[Errno 111] Connection refused"))
    assert isinstance(error, Unreachable) and error.exit_code == EXIT_USAGE
    assert unreachable(error) and "connection refused" in error.message


def test_the_words_alone_do_not_make_an_error_unreachable():
    assert not unreachable(SubmitError("cannot reach the Argo Server at x (connection refused)", EXIT_USAGE))
    conn = ArgoConnection(server="localhost:1", request_timeout=1.0)
    assert not unreachable(connection_error(conn, requests.exceptions.Timeout("read timed out")))
