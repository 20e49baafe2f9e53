"""pyodk, ODK Central's Python client, against a real fieldsync-server (issue 14).

The world is made through FieldSync's own API (an account, a project, a tree D1 > V1 and
D2 > V2, an admin, a supervisor on each district, an agent), an XForm made by pyxform from
an XLSForm, and submissions posted as ODK Collect posts them (OpenRosa multipart, to the
app user's server URL), one of them edited. Then pyodk, configured as its users configure
it (a TOML file with base_url, username, password, default_project_id), reads them back
through Central's REST API: what it reads is compared with what was sent, not with what
the server says elsewhere.

Run by scripts/schemathesis (which starts the server) with FIELDSYNC_URL,
FIELDSYNC_ROOT_USER and FIELDSYNC_ROOT_PASSWORD set.
"""

import hashlib
import os
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests
from pyodk.client import Client
from pyodk.errors import PyODKError
from pyxform.xls2xform import convert

URL = os.environ.get("FIELDSYNC_URL", "").rstrip("/")
ROOT_USER = os.environ.get("FIELDSYNC_ROOT_USER", "root")
ROOT_PASSWORD = os.environ.get("FIELDSYNC_ROOT_PASSWORD", "")

pytestmark = pytest.mark.skipif(not URL, reason="FIELDSYNC_URL is not set (scripts/schemathesis sets it)")

XLSFORM = """
| survey |
| | type | name | label |
| | text | household | Household head |
| | integer | members | Members |
| settings |
| | form_id | form_title | version |
| | hh_visit_{mark} | Household visit {mark} | 2026120401 |
"""


def call(method, path, token=None, expect=(200, 201), **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = "Bearer " + token
    r = requests.request(method, URL + path, headers=headers, timeout=30, **kw)
    assert r.status_code in expect, f"{method} {path}: {r.status_code} {r.text}"
    return r


def token(username, password):
    return call("POST", "/v1/auth/token", json={"username": username, "password": password}, expect=(200,)).json()["token"]


def instance_xml(form_id, version, instance_id, household, members, deprecated=None):
    meta = f"<instanceID>{instance_id}</instanceID>"
    if deprecated:
        meta += f"<deprecatedID>{deprecated}</deprecatedID>"
    return (f'<?xml version="1.0"?><data id="{form_id}" version="{version}" xmlns:orx="http://openrosa.org/xforms">'
            f"<household>{household}</household><members>{members}</members><meta>{meta}</meta></data>").encode()


def collect_submit(server_url, xml, device="collect:pyodk-suite"):
    """What ODK Collect sends: HEAD, then a multipart POST with xml_submission_file."""
    head = requests.head(server_url + "/submission", headers={"X-OpenRosa-Version": "1.0"}, timeout=30)
    assert head.status_code == 204, head.text
    r = requests.post(server_url + "/submission", params={"deviceID": device},
                      headers={"X-OpenRosa-Version": "1.0"},
                      files={"xml_submission_file": ("submission.xml", xml, "text/xml")}, timeout=30)
    assert r.status_code == 201, r.text


NS = {"x": "http://openrosa.org/xforms/xformsList", "m": "http://openrosa.org/xforms/xformsManifest"}


def openrosa_get(url):
    r = requests.get(url, headers={"X-OpenRosa-Version": "1.0"}, timeout=30)
    assert r.status_code == 200, f"{url}: {r.status_code} {r.text}"
    assert r.headers.get("X-OpenRosa-Version") == "1.0"
    return r


def manifest_of(server_url, form_id):
    """What Collect does: formList, the form's manifestUrl, then every file, each checked
    against its hash. Answers {filename: (type, bytes)}."""
    listing = ET.fromstring(openrosa_get(server_url + "/formList").content)
    entry = [x for x in listing.findall("x:xform", NS) if x.findtext("x:formID", namespaces=NS) == form_id]
    assert len(entry) == 1, "the form is in formList once"
    manifest_url = entry[0].findtext("x:manifestUrl", namespaces=NS)
    assert manifest_url, "a form with media has a manifestUrl"
    manifest = openrosa_get(manifest_url)
    assert "text/xml" in manifest.headers["Content-Type"]
    files = {}
    for f in ET.fromstring(manifest.content).findall("m:mediaFile", NS):
        body = openrosa_get(f.findtext("m:downloadUrl", namespaces=NS)).content
        assert f.findtext("m:hash", namespaces=NS) == "md5:" + hashlib.md5(body).hexdigest()
        files[f.findtext("m:filename", namespaces=NS)] = (f.get("type"), body)
    return files


class World:
    pass


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World()
    w.mark = uuid.uuid4().hex[:8]
    root = token(ROOT_USER, ROOT_PASSWORD)
    w.account, w.project = str(uuid.uuid4()), str(uuid.uuid4())
    q = f"?accountId={w.account}"
    call("POST", "/v1/accounts", root, json={"id": w.account, "name": f"pyodk-{w.mark}"})
    call("POST", "/v1/projects" + q, root, json={"id": w.project, "name": f"Survey {w.mark}", "appId": f"app.{w.mark}"})
    w.d1, w.v1, w.d2, w.v2 = (str(uuid.uuid4()) for _ in range(4))
    call("POST", "/v1/orgunits/import" + q, root, json=[
        {"id": w.d1, "name": f"D1-{w.mark}", "parentId": None}, {"id": w.v1, "name": f"V1-{w.mark}", "parentId": w.d1},
        {"id": w.d2, "name": f"D2-{w.mark}", "parentId": None}, {"id": w.v2, "name": f"V2-{w.mark}", "parentId": w.d2}])
    w.password = "pw-" + uuid.uuid4().hex
    for name, role, units in [("admin", "admin", []), ("sup1", "supervisor", [w.d1]), ("sup2", "supervisor", [w.d2]),
                              ("agent", "agent", [w.v1])]:
        call("POST", "/v1/users" + q, root, json={"username": f"{name}-{w.mark}", "password": w.password, "role": role,
                                                   "projectIds": [w.project], "orgUnitIds": units})
    admin = token(f"admin-{w.mark}", w.password)

    result = convert(xlsform=XLSFORM.format(mark=w.mark), file_type=".md")
    assert not result.warnings, result.warnings
    w.form_id, w.version = f"hh_visit_{w.mark}", "2026120401"
    stored = call("POST", f"/v1/forms/xform?projectId={w.project}", admin, data=result.xform.encode(),
                  headers={"Content-Type": "application/xml"}).json()
    w.md5 = stored["md5"]
    app = call("POST", "/v1/app-users", admin, json={"projectId": w.project, "orgUnitIds": [w.v1], "name": "phone"}).json()
    w.odk_project, w.server_url = int(app["odkProjectId"]), app["serverUrl"]

    # Two households; the second is edited once (a new instanceID naming the first).
    w.first, w.second, w.edit = (f"uuid:{uuid.uuid4()}" for _ in range(3))
    collect_submit(w.server_url, instance_xml(w.form_id, w.version, w.first, "Rahima Begum", 5))
    collect_submit(w.server_url, instance_xml(w.form_id, w.version, w.second, "Karim Mia", 3))
    collect_submit(w.server_url, instance_xml(w.form_id, w.version, w.edit, "Karim Mia", 4, deprecated=w.second))

    w.dir = tmp_path_factory.mktemp("pyodk")
    return w


def client(w, user, password=None, cache=None):
    """A pyodk client as its users configure one: a config TOML and a token cache."""
    config = w.dir / f"{cache or user}.toml"
    config.write_text(f'[central]\nbase_url = "{URL}/odk"\nusername = "{user}-{w.mark}"\n'
                      f'password = "{password or w.password}"\ndefault_project_id = {w.odk_project}\n')
    return Client(config_path=str(config), cache_path=str(w.dir / f"{cache or user}-cache.toml"))


def test_projects_and_forms_as_pyodk_reads_them(world):
    with client(world, "admin") as c:
        projects = c.projects.list()
        assert [p.id for p in projects] == [world.odk_project]
        assert projects[0].name == f"Survey {world.mark}"
        assert c.projects.get().id == world.odk_project
        forms = c.forms.list()
        assert [(f.xmlFormId, f.version, f.hash, f.projectId) for f in forms] == [
            (world.form_id, world.version, world.md5, world.odk_project)]
        form = c.forms.get(world.form_id)
        assert form.name == f"Household visit {world.mark}"
        assert form.state == "open"


def test_submissions_one_per_instance_with_the_edit_as_updated(world):
    with client(world, "admin") as c:
        subs = c.submissions.list(form_id=world.form_id)
        assert sorted(s.instanceId for s in subs) == sorted([world.first, world.second])
        edited = c.submissions.get(world.second, form_id=world.form_id)
        assert edited.updatedAt is not None and edited.reviewState == "edited"
        first = c.submissions.get(world.first, form_id=world.form_id)
        assert first.updatedAt is None
        # Collect's app user wrote them: one submitter, not the admin reading.
        me = c.session.get("users/current").json()
        assert {s.submitterId for s in subs} != {me["id"]} and len({s.submitterId for s in subs}) == 1
        with pytest.raises(PyODKError):
            c.submissions.get(world.edit + "-nope", form_id=world.form_id)


def test_supervisors_see_their_subtree_and_agents_cannot_list(world):
    with client(world, "sup1") as c:
        assert len(c.submissions.list(form_id=world.form_id)) == 2
    with client(world, "sup2") as c:
        assert c.submissions.list(form_id=world.form_id) == []
        assert [f.xmlFormId for f in c.forms.list()] == [world.form_id]
    with client(world, "agent") as c:
        with pytest.raises(PyODKError):
            c.submissions.list(form_id=world.form_id)


def test_a_cached_token_is_checked_and_reused_and_a_wrong_password_fails(world):
    with client(world, "sup1") as c:
        c.projects.list()
    cache = (world.dir / "sup1-cache.toml").read_text()
    assert "token" in cache
    # A second client finds the cached token valid (GET users/current) and uses it.
    with client(world, "sup1", password="not-the-password") as c:
        assert [p.id for p in c.projects.list()] == [world.odk_project]
    # Without a cached token, the wrong password is refused at sign-in.
    with pytest.raises(PyODKError):
        with client(world, "sup2", password="not-the-password", cache="sup2-no-cache") as c:
            c.projects.list()


def test_pyodk_creates_submissions_and_resends_are_recognised(world):
    iid = f"uuid:{uuid.uuid4()}"
    xml = instance_xml(world.form_id, world.version, iid, "Nasrin Akter", 6).decode()
    with client(world, "agent") as c:
        created = c.submissions.create(xml, form_id=world.form_id, device_id="pyodk:field-laptop")
        assert created.instanceId == iid
        # The same XML again is the same submission; other XML under its instanceID is refused.
        assert c.submissions.create(xml, form_id=world.form_id).instanceId == iid
        with pytest.raises(PyODKError):
            c.submissions.create(instance_xml(world.form_id, world.version, iid, "Nasrin Akter", 7).decode(), form_id=world.form_id)
        # An edit names the one it replaces.
        edit = f"uuid:{uuid.uuid4()}"
        c.submissions.create(instance_xml(world.form_id, world.version, edit, "Nasrin Akter", 7, deprecated=iid).decode(),
                             form_id=world.form_id)
        me = c.session.get("users/current").json()["id"]
    with client(world, "sup1") as c:
        got = c.submissions.get(iid, form_id=world.form_id)
        assert got.submitterId == me and got.reviewState == "edited"
        assert iid in [s.instanceId for s in c.submissions.list(form_id=world.form_id)]
    with client(world, "sup2") as c:
        assert c.submissions.list(form_id=world.form_id) == []
    # The answers a supervisor pulls are the edit's: FieldSync's own API, the instance record.
    sup = token(f"sup1-{world.mark}", world.password)
    changes = call("GET", "/v1/sync/pull?limit=1000", sup).json()["changes"]
    answers = [ch for ch in changes if ch.get("kind") == "instance" and ch.get("fields", {}).get("household") == "Nasrin Akter"]
    assert len(answers) == 1, changes
    assert answers[0]["fields"]["members"] == 7 and "conflicts" not in answers[0]


def test_a_submission_of_another_form_or_malformed_is_refused(world):
    with client(world, "agent") as c:
        for xml in ["<data", instance_xml("other_form", "1", f"uuid:{uuid.uuid4()}", "x", 1).decode()]:
            with pytest.raises(PyODKError) as e:
                c.submissions.create(xml, form_id=world.form_id)
            assert 400 <= e.value.args[1].status_code < 500


def test_entity_types_are_listed_as_entity_lists(world):
    root = token(ROOT_USER, ROOT_PASSWORD)
    names = [f"Household member {world.mark}", f"Child {world.mark}"]
    for name in names:
        call("POST", f"/v1/entity-types?accountId={world.account}", root, json={"id": str(uuid.uuid4()), "name": name})
    with client(world, "agent") as c:
        lists = c.entity_lists.list()
        assert sorted(l.name for l in lists) == sorted(names)
        assert {l.projectId for l in lists} == {world.odk_project} and not any(l.approvalRequired for l in lists)


# ---- Entities: Central's integer versions over FieldSync's per-field merge ----

def pull_entity(tok, entity_id):
    """The entity as FieldSync's own API shows it (the pull feed, every page)."""
    cursor, found = "", None
    while True:
        page = call("GET", f"/v1/sync/pull?limit=1000&cursor={cursor}", tok).json()
        for ch in page["changes"]:
            if ch.get("kind") == "entity" and ch.get("id") == entity_id:
                found = ch
        cursor = page["cursor"]
        if not page["hasMore"]:
            return found


@pytest.fixture(scope="module")
def households(world):
    """An entity list `households_<mark>` with properties village and members."""
    root = token(ROOT_USER, ROOT_PASSWORD)
    name = f"households_{world.mark}"
    call("POST", f"/v1/entity-types?accountId={world.account}", root, json={"id": str(uuid.uuid4()), "name": name})
    with client(world, "admin") as c:
        for prop in ["village", "members"]:
            c.entity_lists.add_property(prop, entity_list_name=name)
    return name


def test_entity_list_properties_are_declared_once_and_by_admins(world, households):
    with client(world, "admin") as c:
        got = c.entity_lists.get(households)
        assert [p.name for p in got.properties] == ["village", "members"]
        with pytest.raises(PyODKError):
            c.entity_lists.add_property("village", entity_list_name=households)
        for bad in ["", "label", "__id", "has space", "a,b"]:
            r = c.session.post(f"projects/{world.odk_project}/datasets/{households}/properties", json={"name": bad})
            assert r.status_code == 400, (bad, r.text)
    with client(world, "agent") as c:
        r = c.session.post(f"projects/{world.odk_project}/datasets/{households}/properties", json={"name": "phone"})
        assert r.status_code == 403, r.text


def test_entities_created_by_pyodk_are_fieldsync_entities(world, households):
    eid = str(uuid.uuid4())
    with client(world, "sup1") as c:
        e = c.entities.create(label="Rahima Begum", data={"village": "Subil", "members": "5"}, entity_list_name=households, uuid=eid)
        assert e.uuid == eid and e.currentVersion.version == 1 and e.currentVersion.baseVersion is None
        assert e.currentVersion.label == "Rahima Begum" and e.currentVersion.data == {"village": "Subil", "members": "5"}
        assert e.conflict is None
        assert c.entities.create_many([{"label": "Karim Mia", "village": "Debidwar", "members": "3"},
                                       {"label": "Nasrin Akter", "village": "Subil", "members": None}],
                                      entity_list_name=households)
        listed = {x.currentVersion.label: x for x in c.entities.list(entity_list_name=households)}
        assert {"Rahima Begum", "Karim Mia", "Nasrin Akter"} <= set(listed)
        assert listed["Karim Mia"].currentVersion.data == {"village": "Debidwar", "members": "3"}
        # The same uuid again is refused; an undeclared property too; nothing half-written.
        with pytest.raises(PyODKError):
            c.entities.create(label="again", data={}, entity_list_name=households, uuid=eid)
        with pytest.raises(PyODKError):
            c.entities.create_many([{"label": "ok", "village": "x"}, {"label": "bad", "phone": "0171"}], entity_list_name=households)
        assert "ok" not in {x.currentVersion.label for x in c.entities.list(entity_list_name=households)}
    # FieldSync's own API shows the same entity: its fields, filed under the supervisor's district.
    pulled = pull_entity(token(f"sup1-{world.mark}", world.password), eid)
    assert pulled is not None and pulled["fields"] == {"label": "Rahima Begum", "village": "Subil", "members": "5"}
    # An agent of a village below sees none of what was filed at the district.
    with client(world, "agent") as c:
        assert c.entities.list(entity_list_name=households) == []


def test_a_stale_base_version_is_409_and_force_merges_per_field(world, households):
    eid = str(uuid.uuid4())
    with client(world, "sup1") as c:
        c.entities.create(label="Amina", data={"village": "Subil", "members": "4"}, entity_list_name=households, uuid=eid)
        # Another worker (the admin, another device) edits the village on version 1: version 2.
        with client(world, "admin") as other:
            v2 = other.entities.update(eid, entity_list_name=households, data={"village": "Debidwar"}, base_version=1)
        assert v2.currentVersion.version == 2 and v2.currentVersion.baseVersion == 1
        # The supervisor's edit on version 1 is stale: refused, nothing written.
        with pytest.raises(PyODKError) as e:
            c.entities.update(eid, entity_list_name=households, data={"members": "6"}, base_version=1)
        assert e.value.args[1].status_code == 409
        assert c.entities.list(entity_list_name=households) and \
            [x for x in c.entities.list(entity_list_name=households) if x.uuid == eid][0].currentVersion.version == 2
        # Forced on version 1: merged per field. members (only this side changed it) takes 6,
        # village (changed on both sides) keeps both values, a conflict FieldSync lists.
        r = c.session.patch(f"projects/{world.odk_project}/datasets/{households}/entities/{eid}",
                            params={"baseVersion": 1, "force": "true"}, json={"data": {"members": "6", "village": "Comilla"}})
        assert r.status_code == 200, r.text
        v3 = r.json()
        assert v3["currentVersion"]["version"] == 3 and v3["conflict"] == "hard"
        assert v3["currentVersion"]["conflictingProperties"] == ["village"]
        assert v3["currentVersion"]["data"]["members"] == "6"
        # force alone writes on the current version: no new conflict, the label changes.
        v4 = c.entities.update(eid, entity_list_name=households, label="Amina Khatun", force=True)
        assert v4.currentVersion.version == 4 and v4.currentVersion.label == "Amina Khatun"
    pulled = pull_entity(token(f"sup1-{world.mark}", world.password), eid)
    assert pulled["fields"]["members"] == "6" and pulled["fields"]["label"] == "Amina Khatun"
    assert sorted(v["value"] for v in pulled["conflicts"]["village"]) == ["Comilla", "Debidwar"]
    assert "members" not in pulled.get("conflicts", {})


def test_deleted_entities_leave_the_list_and_bad_updates_are_4xx(world, households):
    eid = str(uuid.uuid4())
    base = f"projects/{world.odk_project}/datasets/{households}/entities"
    with client(world, "sup1") as c:
        c.entities.create(label="Gone", data={}, entity_list_name=households, uuid=eid)
        for params, body, status in [({"baseVersion": "x"}, {"label": "y"}, 400), ({}, {"label": "y"}, 400),
                                     ({"baseVersion": 1}, {"data": {"members": 5}}, 400), ({"baseVersion": 1}, {"data": {"nope": "1"}}, 400),
                                     ({"baseVersion": 9}, {"label": "y"}, 409), ({"baseVersion": 1}, {"label": ""}, 400),
                                     ({"baseVersion": 1}, [1, 2], 400), ({"baseVersion": 1}, {"label": None}, 400)]:
            r = c.session.patch(f"{base}/{eid}", params=params, json=body)
            assert r.status_code == status, (params, body, r.status_code, r.text)
        assert c.session.patch(f"{base}/not-a-uuid", params={"baseVersion": 1}, json={}).status_code == 404
        assert c.session.get(f"{base}/{uuid.uuid4()}").status_code == 404
        assert c.entities.delete(eid, entity_list_name=households)
        assert eid not in [x.uuid for x in c.entities.list(entity_list_name=households)]
        assert c.session.get(f"{base}/{eid}").status_code == 404
    pulled = pull_entity(token(f"sup1-{world.mark}", world.password), eid)
    assert pulled["fields"]["deleted"] is True
