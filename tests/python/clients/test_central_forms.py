"""Forms uploaded through pyodk, their media and entity lists as ODK Collect downloads
them, and Central's OData tables (issue 14).

pyodk's `forms.create` and `forms.update` upload pyxform-made XForms with a media file
(a CSV of villages); a follow-up form reads an entity list as a CSV secondary instance.
Collect's side is done as Collect does it on the wire: formList, then the manifest, then
each file, checking every file's MD5 against the manifest's hash. The entity list CSV is
compared with the entities pyodk created (what was sent), and `get_table` with the
submissions and entities the suite sent.
"""

import csv
import hashlib
import io
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests
from pyodk.errors import PyODKError
from pyxform.xls2xform import convert

from test_pyodk import NS, URL, call, client, collect_submit, instance_xml, manifest_of, openrosa_get, token, world  # noqa: F401

pytestmark = pytest.mark.skipif(not URL, reason="FIELDSYNC_URL is not set (scripts/schemathesis sets it)")

REGISTER = """
| survey |
| | type | name | label | save_to |
| | text | village | Village | village |
| | integer | wells | Wells | wells |
| entities |
| | list_name | label |
| | sites_{mark} | concat('Site ', ${{village}}) |
| settings |
| | form_id | form_title | version |
| | site_register_{mark} | Site register {mark} | 1 |
"""

VISIT = """
| survey |
| | type | name | label |
| | select_one_from_file sites_{mark}.csv | site | Site |
| | select_one_from_file villages_{mark}.csv | village | Village |
| | integer | pumps | Working pumps |
| settings |
| | form_id | form_title | version |
| | site_visit_{mark} | Site visit {mark} | {version} |
"""

VILLAGES = "name,label\r\nalpha,Alpha\r\nbazar,Alpha Bazar\r\n"


def xform(tmp, sheet, name, **kw):
    result = convert(xlsform=sheet.format(**kw), file_type=".md")
    path = tmp / f"{name}.xml"
    path.write_text(result.xform)
    return path


@pytest.fixture(scope="module")
def forms(world, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("forms")
    villages = tmp / f"villages_{world.mark}.csv"
    villages.write_text(VILLAGES, newline="")
    with client(world, "admin") as c:
        created = c.forms.create(xform(tmp, REGISTER, "register", mark=world.mark))
        assert created.xmlFormId == f"site_register_{world.mark}"
        visit = c.forms.create(xform(tmp, VISIT, "visit", mark=world.mark, version="1"), attachments=[villages])
        assert (visit.xmlFormId, visit.version) == (f"site_visit_{world.mark}", "1")
    # The agent's entities (filed under V1, which the app user of the world also has).
    with client(world, "agent") as c:
        zeta = c.entities.create(label="Site Zeta", data={"village": "Zeta", "wells": "2"}, entity_list_name=f"sites_{world.mark}")
        eta = c.entities.create(label="Site Eta, \"old\"", data={"village": "Eta", "wells": "0"}, entity_list_name=f"sites_{world.mark}")
    return {"tmp": tmp, "villages": villages, "visit": f"site_visit_{world.mark}", "list": f"sites_{world.mark}",
            "zeta": zeta.uuid, "eta": eta.uuid}


def rows_of(body):
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def test_pyodk_creates_and_publishes_forms_with_their_media(world, forms):
    with client(world, "admin") as c:
        ids = {f.xmlFormId: f for f in c.forms.list()}
        assert forms["visit"] in ids and f"site_register_{world.mark}" in ids
        assert ids[forms["visit"]].publishedAt is not None
        xml = c.forms.get_xml(forms["visit"])
        assert f'id="{forms["visit"]}"' in xml and (forms["tmp"] / "visit.xml").read_text() == xml
        assert c.entity_lists.get(forms["list"]).name == forms["list"]
    files = manifest_of(world.server_url, forms["visit"])
    assert set(files) == {f"villages_{world.mark}.csv", f"sites_{world.mark}.csv"}
    kind, body = files[f"villages_{world.mark}.csv"]
    assert kind is None and body == VILLAGES.encode(), "the uploaded file comes back byte for byte"


def test_the_entity_list_csv_holds_what_was_sent(world, forms):
    kind, body = manifest_of(world.server_url, forms["visit"])[f"sites_{world.mark}.csv"]
    assert kind == "entityList"
    assert body.decode().splitlines()[0] == "name,label,__version,village,wells"
    rows = {r["name"]: r for r in rows_of(body)}
    assert rows[forms["zeta"]] == {"name": forms["zeta"], "label": "Site Zeta", "__version": "1", "village": "Zeta", "wells": "2"}
    assert rows[forms["eta"]]["label"] == 'Site Eta, "old"', "a label with a comma and quotes survives CSV quoting"


def test_an_entity_update_changes_the_csv_and_its_hash(world, forms):
    before = manifest_of(world.server_url, forms["visit"])[f"sites_{world.mark}.csv"][1]
    with client(world, "agent") as c:
        c.entities.update(forms["zeta"], entity_list_name=forms["list"], base_version=1, data={"village": "Zeta East"})
    after = manifest_of(world.server_url, forms["visit"])[f"sites_{world.mark}.csv"][1]
    assert hashlib.md5(before).hexdigest() != hashlib.md5(after).hexdigest()
    row = {r["name"]: r for r in rows_of(after)}[forms["zeta"]]
    assert (row["__version"], row["village"], row["wells"]) == ("2", "Zeta East", "2")
    with client(world, "agent") as c:
        c.entities.delete(forms["eta"], entity_list_name=forms["list"])
    assert forms["eta"] not in {r["name"] for r in rows_of(manifest_of(world.server_url, forms["visit"])[f"sites_{world.mark}.csv"][1])}
    # A phone that kept Eta offline asks the list's integrity URL (from the manifest) and
    # learns it was deleted; Zeta is not; an id the server never saw is left out.
    manifest = ET.fromstring(openrosa_get(world.server_url + f"/forms/{forms['visit']}/manifest").content)
    entry = [f for f in manifest.findall("m:mediaFile", NS) if f.findtext("m:filename", namespaces=NS) == f"sites_{world.mark}.csv"][0]
    unknown = str(uuid.uuid4())
    doc = ET.fromstring(openrosa_get(entry.findtext("m:integrityUrl", namespaces=NS) + f"?id={forms['eta']},{forms['zeta']},{unknown}").content)
    assert {e.get("id"): e.findtext("deleted") for e in doc.iter("entity")} == {forms["eta"]: "true", forms["zeta"]: "false"}


def test_pyodk_merges_a_table_into_the_entity_list(world, forms):
    """entities.merge, as data managers use it: match rows by label, update the ones that
    differ (on the version get_table showed), create the new ones in one request, add a
    property the table has and the list has not."""
    rows = [{"label": "Site Zeta", "village": "Zeta East", "wells": "5", "pumps": "2"},
            {"label": "Site Theta", "village": "Theta", "wells": "1", "pumps": "0"}]
    with client(world, "admin") as c:
        actions = c.entities.merge(rows, entity_list_name=forms["list"], create_source="sites.csv")
        assert set(actions.to_insert) == {("Site Theta",)} and set(actions.to_update) == {("Site Zeta",)}
        assert "pumps" in [p.name for p in c.entity_lists.get(forms["list"]).properties]
        now = {e.currentVersion.label: e.currentVersion for e in c.entities.list(entity_list_name=forms["list"])}
    assert (now["Site Zeta"].data["wells"], now["Site Zeta"].data["pumps"], now["Site Zeta"].data["village"]) == ("5", "2", "Zeta East")
    assert now["Site Zeta"].version == 3
    assert (now["Site Theta"].data["village"], now["Site Theta"].version) == ("Theta", 1)


def test_a_new_version_keeps_the_media_it_still_names(world, forms):
    with client(world, "admin") as c:
        c.forms.update(forms["visit"], definition=xform(forms["tmp"], VISIT, "visit2", mark=world.mark, version="2"))
        assert c.forms.get(forms["visit"]).version == "2"
    assert manifest_of(world.server_url, forms["visit"])[f"villages_{world.mark}.csv"][1] == VILLAGES.encode()


def test_form_uploads_that_cannot_work_are_refused(world, forms):
    with client(world, "admin") as c:
        with pytest.raises(PyODKError):  # a form with this id exists: update it instead
            c.forms.create(xform(forms["tmp"], VISIT, "visit3", mark=world.mark, version="3"))
        with pytest.raises(PyODKError):  # attachments only: publishing under a new version needs a new XForm
            c.forms.update(forms["visit"], attachments=[forms["villages"]])
    admin = token(f"admin-{world.mark}", world.password)
    base = f"/odk/v1/projects/{world.odk_project}/forms"
    call("POST", base, admin, data=b"PK\x03\x04", expect=(415,),
         headers={"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    call("POST", base, admin, data=b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', expect=(400,), headers={"Content-Type": "application/xml"})
    call("POST", f"{base}/{forms['visit']}/draft/attachments/unnamed.csv", admin, data=b"x", expect=(404,))
    # An XForm whose primary instance has no id: 422, and no form is made.
    no_id = (forms["tmp"] / "register.xml").read_text().replace(f'id="site_register_{world.mark}"', "", 1)
    assert no_id != (forms["tmp"] / "register.xml").read_text()
    call("POST", base + "?publish=true", admin, data=no_id.encode(), expect=(422,), headers={"Content-Type": "application/xml"})
    agent = token(f"agent-{world.mark}", world.password)
    call("POST", base + "?publish=true", agent, data=b"<x/>", expect=(403,), headers={"Content-Type": "application/xml"})


def test_submissions_table_as_pyodk_reads_it(world, forms):
    with client(world, "admin") as c:
        table = c.submissions.get_table(form_id=world.form_id, count=True)
        rows = {r["__id"]: r for r in table["value"]}
        assert table["@odata.count"] == 2 and set(rows) == {world.first, world.second}
        assert rows[world.first]["household"] == "Rahima Begum" and rows[world.first]["members"] == 5
        # The second household at its edit: 4 members, one edit, the edit's instanceID in meta.
        assert rows[world.second]["members"] == 4 and rows[world.second]["__system"]["edits"] == 1
        assert rows[world.second]["meta"]["instanceID"] == world.edit
        assert rows[world.first]["__system"]["formVersion"] == world.version
        page = c.submissions.get_table(form_id=world.form_id, top=1)
        assert len(page["value"]) == 1 and "$skip=1" in page["@odata.nextLink"]
        rest = c.submissions.get_table(form_id=world.form_id, skip=1)
        assert {page["value"][0]["__id"], rest["value"][0]["__id"]} == {world.first, world.second}
        picked = c.submissions.get_table(form_id=world.form_id, select="members")
        assert all(set(r) == {"__id", "members"} for r in picked["value"])
        with pytest.raises(PyODKError):
            c.submissions.get_table(form_id=world.form_id, filter="__system/submitterId eq '1'")
    with client(world, "agent") as c, pytest.raises(PyODKError):
        c.submissions.get_table(form_id=world.form_id)


def test_entities_table_as_pyodk_reads_it(world, forms):
    with client(world, "admin") as c:
        table = c.entities.get_table(entity_list_name=forms["list"], count=True)
        listed = {e.uuid: e for e in c.entities.list(entity_list_name=forms["list"])}
        rows = {r["__id"]: r for r in table["value"]}
        assert set(rows) == set(listed) and table["@odata.count"] == len(listed)
        for eid, e in listed.items():
            assert rows[eid]["label"] == e.currentVersion.label
            assert rows[eid]["__system"]["version"] == e.currentVersion.version
            assert {k: rows[eid][k] for k in e.currentVersion.data} == e.currentVersion.data


PHOTO = """
| survey |
| | type | name | label |
| | text | house | House |
| | image | photo | Photo |
| settings |
| | form_id | form_title | version |
| | house_photo_{mark} | House photo {mark} | 1 |
"""


def pull_record(tok, kind, record_id):
    """A record as FieldSync's own API shows it (the pull feed, every page)."""
    cursor, found = "", None
    while True:
        page = call("GET", f"/v1/sync/pull?limit=1000&cursor={cursor}", tok).json()
        for ch in page["changes"]:
            if ch.get("kind") == kind and ch.get("id") == record_id:
                found = ch
        cursor = page["cursor"]
        if not page["hasMore"]:
            return found


def test_pyodk_sends_a_submission_with_its_photo(world, forms):
    form_id = f"house_photo_{world.mark}"
    with client(world, "admin") as c:
        c.forms.create(xform(forms["tmp"], PHOTO, "photo", mark=world.mark))
    photo = forms["tmp"] / "front.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + uuid.uuid4().bytes * 64 + b"\xff\xd9")
    rid = str(uuid.uuid4())
    xml = (f'<?xml version="1.0"?><data id="{form_id}" version="1"><house>Blue door</house><photo>front.jpg</photo>'
           f'<meta><instanceID>uuid:{rid}</instanceID></meta></data>')
    with client(world, "agent") as c:
        created = c.submissions.create(xml, form_id=form_id, attachments=[photo])
        assert [(a.name, a.exists) for a in created.attachments] == [("front.jpg", True)]
        got = c.session.get(f"projects/{world.odk_project}/forms/{form_id}/submissions/uuid:{rid}/attachments/front.jpg")
        assert got.status_code == 200 and got.content == photo.read_bytes()
        assert got.headers["X-Content-Type-Options"] == "nosniff" and got.headers["Content-Disposition"].startswith("attachment")
    # FieldSync's instance lists the file by digest and is complete; the answers are the XML's.
    record = pull_record(token(f"admin-{world.mark}", world.password), "instance", rid)
    assert record["fields"] == {"house": "Blue door", "photo": "front.jpg"}
    assert [(a["name"], a["sha256"]) for a in record["attachments"]] == [("front.jpg", hashlib.sha256(photo.read_bytes()).hexdigest())]
    assert record["complete"] is True and "conflicts" not in record
    # A name the answers do not give, and someone else's submission: refused.
    agent = token(f"agent-{world.mark}", world.password)
    base = f"/odk/v1/projects/{world.odk_project}/forms/{form_id}/submissions/uuid:{rid}/attachments"
    call("POST", base + "/other.jpg", agent, data=b"x", expect=(404,))
    call("POST", base + "/front.jpg", token(f"admin-{world.mark}", world.password), data=b"x", expect=(403,))
    call("GET", base + "/front.jpg", token(f"sup2-{world.mark}", world.password), expect=(404,))


def test_collect_splits_a_large_submission_over_two_posts(world, forms):
    """Collect's split upload: the XML with `*isIncomplete*` first, then the XML again with
    the file. The instance is written once, whole, when the file arrives."""
    form_id = f"house_photo_{world.mark}"  # published by the previous test
    rid = str(uuid.uuid4())
    xml = (f'<?xml version="1.0"?><data id="{form_id}" version="1"><house>Green roof</house><photo>roof.jpg</photo>'
           f'<meta><instanceID>uuid:{rid}</instanceID></meta></data>').encode()
    photo = b"\xff\xd8" + uuid.uuid4().bytes * 512 + b"\xff\xd9"
    headers = {"X-OpenRosa-Version": "1.0"}
    assert requests.head(world.server_url + "/submission", headers=headers, timeout=30).status_code == 204
    first = requests.post(world.server_url + "/submission", params={"deviceID": "collect:split"}, headers=headers, timeout=30,
                          files=[("xml_submission_file", ("submission.xml", xml, "text/xml")), ("*isIncomplete*", (None, "yes"))])
    assert first.status_code == 201 and "text/xml" in first.headers["Content-Type"], first.text
    admin = token(f"admin-{world.mark}", world.password)
    assert pull_record(admin, "instance", rid) is None, "nothing is written before the file"
    second = requests.post(world.server_url + "/submission", params={"deviceID": "collect:split"}, headers=headers, timeout=30,
                           files=[("xml_submission_file", ("submission.xml", xml, "text/xml")), ("roof.jpg", ("roof.jpg", photo, "image/jpeg"))])
    assert second.status_code == 201, second.text
    record = pull_record(admin, "instance", rid)
    assert record["fields"] == {"house": "Green roof", "photo": "roof.jpg"} and record["complete"] is True
    assert [(a["name"], a["sha256"], a["size"]) for a in record["attachments"]] == [("roof.jpg", hashlib.sha256(photo).hexdigest(), len(photo))]


def test_a_huge_submission_is_413_and_writes_nothing(world, forms):
    """A submission XML above the XML limit (10 MiB) inside a multipart body Collect may
    send (below X-OpenRosa-Accept-Content-Length): 413, and no instance appears."""
    rid = str(uuid.uuid4())
    form_id = f"house_photo_{world.mark}"
    xml = (f'<?xml version="1.0"?><data id="{form_id}" version="1"><house>{"x" * (11 << 20)}</house>'
           f'<meta><instanceID>uuid:{rid}</instanceID></meta></data>').encode()
    r = requests.post(world.server_url + "/submission", headers={"X-OpenRosa-Version": "1.0"}, timeout=60,
                      files={"xml_submission_file": ("submission.xml", xml, "text/xml")})
    assert r.status_code == 413 and "OpenRosaResponse" in r.text, r.text[:300]
    assert pull_record(token(f"admin-{world.mark}", world.password), "instance", rid) is None
