"""Workflows are read from the Argo Server as plain JSON: a field hera's models do not know survives the read."""

from __future__ import annotations

import copy
import io

from compiler.submit.connection import ArgoConnection
from compiler.submit.server import get_workflow, open_service
from tests.submit.conftest import TOKEN
from tests.submit.test_follow import MANIFEST, NS, WF


def test_get_workflow_keeps_fields_hera_does_not_model(argo):
    wf = copy.deepcopy(MANIFEST)
    argo.add_workflow(NS, wf)
    argo.set_status(NS, WF, {"phase": "Running", "newFieldX": 1, "progress": "0/1"})
    conn = ArgoConnection(server=argo.server, secure=False, token=f"Bearer {TOKEN}", namespace=NS)
    with open_service(conn, io.StringIO()) as svc:
        got = get_workflow(svc, conn, WF)
    assert got["status"]["newFieldX"] == 1 and got["status"]["phase"] == "Running"
    assert got["metadata"]["name"] == WF
