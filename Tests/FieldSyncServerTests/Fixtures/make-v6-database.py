#!/usr/bin/env python3
"""Writes records through a running fieldsync-server of the release before migration 0007
(commit 09673a8, migrations 0001-0006), so AppliedDotsMigrationTests can migrate a
database that release wrote. Then dump it:

    pg_dump --data-only --inserts --exclude-table=schema_migrations --exclude-table=spatial_ref_sys \
        -h SOCK -p PORT -U postgres DB > v6-database.sql

Usage: make-v6-database.py http://127.0.0.1:PORT   (server started with FIELDSYNC_ADMIN_USER=root,
FIELDSYNC_ADMIN_PASSWORD=root-password). Ids are fixed so the test can name them.
"""
import json, sys, urllib.request

BASE = sys.argv[1]

def call(method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read().decode()}")

ACCOUNT = "0a000000-0000-4000-8000-000000000001"
PROJECT = "0b000000-0000-4000-8000-000000000001"
COUNTRY = "0c000000-0000-4000-8000-000000000001"
DISTRICT = "0c000000-0000-4000-8000-000000000002"
TYPE = "0d000000-0000-4000-8000-000000000001"
DEV_A = "0e000000-0000-4000-8000-00000000000a"
DEV_B = "0e000000-0000-4000-8000-00000000000b"
E1 = "0f000000-0000-4000-8000-000000000001"
E2 = "0f000000-0000-4000-8000-000000000002"
I1 = "1a000000-0000-4000-8000-000000000001"
NEW_UNIT = "0c000000-0000-4000-8000-000000000003"

root = call("POST", "/v1/auth/token", body={"username": "root", "password": "root-password"})["token"]
q = f"?accountId={ACCOUNT}"
call("POST", "/v1/accounts", root, {"id": ACCOUNT, "name": "Migration account"})
call("POST", "/v1/projects" + q, root, {"id": PROJECT, "name": "Survey", "appId": "test.survey"})
square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
call("POST", "/v1/orgunits/import" + q, root, [
    {"id": COUNTRY, "name": "Country", "parentId": None},
    {"id": DISTRICT, "name": "District", "parentId": COUNTRY, "geometry": square},
])
call("POST", "/v1/entity-types" + q, root, {"id": TYPE, "name": "Household"})
call("POST", "/v1/forms" + q, root, {"formId": "visit", "name": "Visit", "version": "1", "projectIds": [PROJECT],
                                     "fields": [{"name": "members", "type": "integer"}]})
call("POST", "/v1/users" + q, root, {"username": "mig-admin", "password": "mig-admin-password", "role": "admin",
                                     "projectIds": [PROJECT], "orgUnitIds": []})
admin = call("POST", "/v1/auth/token", body={"username": "mig-admin", "password": "mig-admin-password"})["token"]
for d in (DEV_A, DEV_B):
    call("POST", "/v1/devices", admin, {"deviceId": d})

def entity(i, dev, counter, base, changes, at, create=False):
    item = {"kind": "entity", "id": i, "replica": dev, "counter": counter, "base": base,
            "editedAt": f"2026-11-20T08:15:{at:02d}.000Z", "changes": changes}
    if create:
        item.update({"entityTypeId": TYPE, "orgUnitId": DISTRICT})
    return item

def push(dev, items):
    import uuid
    r = call("POST", "/v1/sync/push", admin, {"batchId": str(uuid.uuid4()), "deviceId": dev, "projectId": PROJECT, "items": items})
    for res in r["results"]:
        if res["status"] == "rejected":
            raise SystemExit(f"rejected: {res}")
    return r

# dev-a writes 3 (E1), 4 (E2), 7 (E1), 9 (E2), 12 (E1): its counters on E1 are 3, 7, 12.
push(DEV_A, [entity(E1, DEV_A, 3, {}, {"name": "Amina", "village": "Subil"}, 1, True),
             entity(E2, DEV_A, 4, {}, {"name": "Rahim"}, 2, True)])
# dev-b saw E1 at {a:3} and writes 5 and 8 to it (8 after its own 5).
push(DEV_B, [entity(E1, DEV_B, 5, {DEV_A: 3}, {"village": "Debidwar"}, 3),
             entity(E1, DEV_B, 8, {DEV_A: 3, DEV_B: 5}, {"age": "31"}, 4)])
push(DEV_A, [entity(E1, DEV_A, 7, {DEV_A: 3}, {"village": "Gunaighor"}, 5),
             entity(E2, DEV_A, 9, {DEV_A: 4}, {"name": "Rahim K."}, 6),
             entity(E1, DEV_A, 12, {DEV_A: 7, DEV_B: 8}, {"name": "Amina K."}, 7)])
# An instance with two writes, the second on the first.
push(DEV_A, [{"kind": "instance", "id": I1, "replica": DEV_A, "counter": 13, "editedAt": "2026-11-20T08:16:00.000Z",
              "formId": "visit", "formVersion": "1", "orgUnitId": DISTRICT, "entityId": E1, "changes": {"members": 4}}])
push(DEV_A, [{"kind": "instance", "id": I1, "replica": DEV_A, "counter": 15, "base": {DEV_A: 13},
              "editedAt": "2026-11-20T08:17:00.000Z", "changes": {"members": 5}}])
# A supervisor-side resolve of E1's conflicted village (server:1), then dev-b on top of it.
call("POST", f"/v1/conflicts/entity/{E1}/resolve", admin, {"changes": {"village": "Subil"}})
push(DEV_B, [entity(E1, DEV_B, 20, {DEV_A: 12, DEV_B: 8, "server": 1}, {"village": "Subil bazar"}, 9)])
# An admin's org-unit write (applied at once) on the imported district, and a new unit.
push(DEV_A, [{"kind": "orgUnit", "id": DISTRICT, "replica": DEV_A, "counter": 21, "base": {"server": 1},
              "editedAt": "2026-11-20T08:18:00.000Z", "changes": {"name": "District (renamed)"}},
             {"kind": "orgUnit", "id": NEW_UNIT, "replica": DEV_A, "counter": 22, "editedAt": "2026-11-20T08:18:30.000Z",
              "changes": {"name": "Village", "parentId": DISTRICT}}])
print("ok")
