"""schemathesis against the published OpenAPI: generated requests to every route (as a
clinician, the role with the most routes, and as an admin, who has the others), and no
answer is a server error or off its schema. A request valid by the schema may still be
refused with 409 or 422 (a duplicate identifier, a dose over a hard limit), so the
"positive data accepted" check is off. Bounded here (`SCHEMA_EXAMPLES` per route);
`IDDS_SCHEMA_LONG=1` runs 500 per route. The routes that talk to a pump are left out:
without one they answer 502 by design, and they are tested on a real emulated pump
(test_api_pumps); so is the logout."""

from __future__ import annotations

import itertools
import os

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from idds.store import UserRole
from tests.api.api_helpers import API, Users

SCHEMA_EXAMPLES = int(os.environ.get("IDDS_SCHEMA_EXAMPLES", "500")) \
    if os.environ.get("IDDS_SCHEMA_LONG") == "1" else 8
#: Operations left out: those that need a pump on the link (502 without one), and the logout,
#: which would end the session the other operations are called in.
LEFT_OUT = ("propose", "propose_refill", "sync", "log_out")


def test_no_server_error_and_every_answer_on_its_schema(client: TestClient,
                                                         users: Users) -> None:
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", client.app).exclude(
        operation_id_regex="|".join(f"^{n}_" for n in LEFT_OUT))
    tested = []
    for result, role in itertools.product(schema.get_all_operations(),
                                          (UserRole.CLINICIAN, UserRole.ADMIN)):
        headers = users.auth(role)
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=SCHEMA_EXAMPLES, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)  # noqa: B023 (called in this iteration)
            assert response.status_code < 500, (case.method, case.path, response.text)
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        check()
        tested.append(operation.label)
    assert len(tested) >= 40, tested
