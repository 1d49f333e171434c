"""Order-validation service: publish policy versions, validate orders per segment, queue exceptions.

The published contract, `PolicyVersion`, lives in `supplyseg.policy.document`. Modules:
`settings`, `db` (engine, migrations),
`models` (tables), `validation` (pure checks), `policy_store` (publish/load), `intake`
(idempotent submission), `resolution` (exceptions, shipments), `events` (audit + outbox),
`lifecycle` (cancellation), `security` (API keys), `app` + `routes/` (HTTP), `commands` (CLI
functions).

Use (the CLI verbs will wrap `commands`)::

    from supplyseg.service import create_api_key, publish_policy, serve
    publish_policy("sqlite:///service.db", json.load(open("policy.json")))   # -> version id
    admin = create_api_key("sqlite:///service.db", "admin")                 # shown once
    edi = create_api_key("sqlite:///service.db", "submitter", ["C001", "C002"])
    serve("sqlite:///service.db", port=8000)                                 # docs: /docs

    curl -H "X-API-Key: $EDI" -H "Idempotency-Key: po-4711" -X POST localhost:8000/orders \
         -d '{"customer_id": "C001", "po_number": "4711", "channel": "edi", ...}'
    curl -H "X-API-Key: $EDI" -H "Content-Type: text/csv" --data-binary @lines.csv \
         localhost:8000/orders/csv

Running against PostgreSQL locally (the test-suite runs on it when ``SUPPLYSEG_TEST_PG_URL`` is
set; ``pip install 'psycopg[binary]'`` first)::

    docker run -d --name supplyseg-pg -e POSTGRES_PASSWORD=pw -p 5432:5432 postgres:16
    export SUPPLYSEG_TEST_PG_URL=postgresql+psycopg://postgres:pw@127.0.0.1:5432/postgres
    pytest tests/service

or without Docker (as a non-root user, PostgreSQL binaries on PATH)::

    initdb -D /tmp/pg -U postgres --auth=trust
    pg_ctl -D /tmp/pg -o "-p 5433" -l /tmp/pg.log start
    export SUPPLYSEG_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5433/postgres

The PostgreSQL tests drop and re-create the ``public`` schema of that database: use a scratch one.
"""

from supplyseg.policy.document import PolicyVersion
from supplyseg.service.commands import create_api_key, publish_policy, serve

__all__ = ["PolicyVersion", "create_api_key", "publish_policy", "serve"]
