#!/usr/bin/env python3
"""Sets up, through the API of a running fieldsync-server, the world schemathesis runs in.

An account, a project, org-unit types, org units, an entity type, a form, an admin and an
agent (with a registered device), using the ids, names and passwords of the examples in
Schemas/openapi.yaml, so the examples phase of schemathesis sends requests that succeed
(the agent is `amina`, its device the example's `deviceId`, the org units those the example
items name). Every token is taken here, before schemathesis runs: its failed logins hit
the server's rate limit for the test's address.

Prints shell assignments (ADMIN_TOKEN=…) for scripts/schemathesis to read. Uses the
standard library only.

Usage: schemathesis_world.py URL SUPERUSER PASSWORD
"""

import json
import sys
import urllib.error
import urllib.request

ACCOUNT = "ac000000-0000-4000-8000-000000000001"
PROJECT = "9a000000-0000-4000-8000-000000000001"
TYPE_DIVISION = "07000000-0000-4000-8000-000000000001"
TYPE_DISTRICT = "07000000-0000-4000-8000-000000000002"
TYPE_UNION = "07000000-0000-4000-8000-000000000004"
ROOT_UNIT = "0d000000-0000-4000-8000-000000000001"
UNIT = "0c000000-0000-4000-8000-000000000001"
UNIT_2 = "0c000000-0000-4000-8000-000000000002"
ENTITY_TYPE = "7e000000-0000-4000-8000-000000000001"
AGENT_DEVICE = "b0000000-0000-4000-8000-00000000000b"
ADMIN_DEVICE = "b0000000-0000-4000-8000-0000000000ad"

# pyxform 4.5.0's XForm of: survey `text household`, `integer members`; settings form_id
# household_visit, version 2026120401. Its instance ID is the examples' in openapi.yaml.
XFORM_ID = "household_visit"
XFORM = (
    '<?xml version="1.0"?><h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" '
    'xmlns:ev="http://www.w3.org/2001/xml-events" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms">'
    '<h:head><h:title>Household visit</h:title><model odk:xforms-version="1.0.0"><instance>'
    '<data id="household_visit" version="2026120401"><household/><members/><meta><instanceID/></meta></data></instance>'
    '<bind nodeset="/data/household" type="string"/><bind nodeset="/data/members" type="int"/>'
    '<bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/></model></h:head>'
    '<h:body><input ref="/data/household"><label>Household head</label></input>'
    '<input ref="/data/members"><label>Members</label></input></h:body></h:html>')
SUBMISSION = (
    '<data id="household_visit" version="2026120401"><household>Rahima Begum</household><members>5</members>'
    '<meta><instanceID>uuid:5e000000-0000-4000-8000-000000000001</instanceID></meta></data>')


class World:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, body=None, token: str | None = None, expect=(200, 201), xml: str | None = None):
        data = xml.encode() if xml is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/xml" if xml is not None else "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        if status not in expect:
            raise SystemExit(f"schemathesis_world: {method} {path} answered {status}: {text}")
        return json.loads(text) if text else None

    def token(self, username: str, password: str) -> str:
        return self.call("POST", "/v1/auth/token", {"username": username, "password": password}, expect=(200,))["token"]


def main() -> None:
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    world = World(sys.argv[1])
    root = world.token(sys.argv[2], sys.argv[3])
    q = f"?accountId={ACCOUNT}"
    world.call("POST", "/v1/accounts", {"id": ACCOUNT, "name": "Bangladesh household survey"}, root)
    world.call("POST", "/v1/projects" + q, {"id": PROJECT, "name": "Household survey 2026", "appId": "org.example.household"}, root)
    for type_id, name, depth in [(TYPE_DIVISION, "Division", 1), (TYPE_DISTRICT, "District", 2), (TYPE_UNION, "Union", 4)]:
        world.call("POST", "/v1/orgunit-types" + q, {"id": type_id, "name": name, "depth": depth}, root)
    square = lambda x, y: {"type": "Polygon", "coordinates": [[[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]]}
    world.call("POST", "/v1/orgunits/import" + q, [
        {"id": ROOT_UNIT, "parentId": None, "name": "Chattagram", "orgUnitTypeId": TYPE_DIVISION, "aliases": ["Chittagong"]},
        {"id": UNIT, "parentId": ROOT_UNIT, "name": "Subil", "orgUnitTypeId": TYPE_UNION,
         "location": {"type": "Point", "coordinates": [91.06, 23.62]}, "geometry": square(91.0, 23.6)},
        {"id": UNIT_2, "parentId": ROOT_UNIT, "name": "Debidwar", "orgUnitTypeId": TYPE_UNION, "geometry": square(91.2, 23.6)},
    ], root)
    world.call("POST", "/v1/entity-types" + q, {"id": ENTITY_TYPE, "name": "Household member"}, root)
    world.call("POST", "/v1/forms" + q, {
        "formId": "household", "name": "Household visit", "version": "1", "projectIds": [PROJECT],
        "fields": [
            {"name": "head_name", "type": "text", "required": True},
            {"name": "members", "type": "integer"},
            {"name": "water_source", "type": "select_one", "choices": ["tap", "well", "river"]},
            {"name": "visit_date", "type": "date", "required": True},
            {"name": "household_location", "type": "geopoint"},
        ],
    }, root)
    users = [("fuzz-admin", "fuzz-admin-pass", "admin", []), ("amina", "s3cret-pass", "agent", [UNIT])]
    for username, password, role, units in users:
        world.call("POST", "/v1/users" + q, {"username": username, "password": password, "role": role,
                                             "projectIds": [PROJECT], "orgUnitIds": units}, root)
    admin = world.token("fuzz-admin", "fuzz-admin-pass")
    agent = world.token("amina", "s3cret-pass")
    world.call("POST", "/v1/devices", {"deviceId": ADMIN_DEVICE, "model": "Admin tablet"}, admin, expect=(200,))
    world.call("POST", "/v1/devices", {"deviceId": AGENT_DEVICE, "model": "Pixel 7a", "appVersion": "2.4.1"}, agent, expect=(200,))
    # An XForm (as pyxform makes it) and one submission of it, so the ODK Central routes'
    # examples (project 1, form `household_visit`, the instanceID below) reach real data.
    world.call("POST", f"/v1/forms/xform?projectId={PROJECT}", token=admin, xml=XFORM)
    world.call("POST", f"/odk/v1/projects/1/forms/{XFORM_ID}/submissions", token=agent, xml=SUBMISSION, expect=(200,))
    # An app user (ODK Collect's credential, in the path): the OpenRosa routes are fuzzed
    # with its key (schemathesis.toml binds the `key` parameter to it).
    app = world.call("POST", "/v1/app-users", {"projectId": PROJECT, "orgUnitIds": [UNIT], "name": "fuzz phone"}, admin)
    # Tokens for the revocation runs only: revoking them leaves ADMIN_TOKEN and AGENT_TOKEN alive.
    revoke_admin = world.token("fuzz-admin", "fuzz-admin-pass")
    revoke_agent = world.token("amina", "s3cret-pass")
    print(f"APP_USER_KEY={app['key']}")
    print(f"ADMIN_TOKEN={admin}")
    print(f"AGENT_TOKEN={agent}")
    print(f"REVOKE_ADMIN_TOKEN={revoke_admin}")
    print(f"REVOKE_AGENT_TOKEN={revoke_agent}")


if __name__ == "__main__":
    main()
