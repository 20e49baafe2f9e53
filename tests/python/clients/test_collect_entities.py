"""ODK Collect's entity blocks (issue 14): forms made by pyxform from XLSForms with an
entities sheet, submitted as Collect submits them (OpenRosa multipart, `meta/entity`
with baseVersion, trunkVersion and branchId), by two phones editing one household
offline. What pyodk and FieldSync's own pull then show is compared with what the phones
sent: per-field merge, both values of a field both phones changed, the offline chain's
later update held until its predecessor arrives, and the same result for either order.
"""

import csv
import io
import uuid

import pytest
import requests
from pyxform.xls2xform import convert

from test_pyodk import ROOT_PASSWORD, ROOT_USER, URL, call, client, collect_submit, manifest_of, pull_entity, token, world  # noqa: F401

pytestmark = pytest.mark.skipif(not URL, reason="FIELDSYNC_URL is not set (scripts/schemathesis sets it)")

REGISTER = """
| survey |
| | type | name | label | save_to |
| | text | village | Village | village |
| | integer | members | Members | members |
| entities |
| | list_name | label |
| | hh_{mark} | concat('HH ', ${{village}}) |
| settings |
| | form_id | form_title | version |
| | hh_register_{mark} | Register {mark} | 1 |
"""

UPDATE = """
| survey |
| | type | name | label | save_to |
| | select_one_from_file hh_{mark}.csv | eid | Household | |
| | text | village | Village | village |
| | integer | members | Members | members |
| entities |
| | list_name | label | entity_id |
| | hh_{mark} | concat('HH ', ${{village}}) | ${{eid}} |
| settings |
| | form_id | form_title | version |
| | hh_update_{mark} | Update {mark} | 1 |
"""


def submission(form_id, entity, attributes, answers, label=""):
    """A submission as Collect writes it from the pyxform form: answers, then meta/entity."""
    attrs = " ".join(f'{k}="{v}"' for k, v in attributes.items())
    body = "".join(f"<{k}>{v}</{k}>" for k, v in answers.items())
    return (f'<?xml version="1.0"?><data id="{form_id}" version="1" xmlns:orx="http://openrosa.org/xforms">{body}'
            f'<meta><instanceID>uuid:{uuid.uuid4()}</instanceID>'
            f'<entity dataset="{entity["dataset"]}" id="{entity["id"]}" {attrs}><label>{label}</label></entity>'
            f'</meta></data>').encode()


@pytest.fixture(scope="module")
def phones(world):  # noqa: F811
    admin = token(f"admin-{world.mark}", world.password)
    for sheet in (REGISTER, UPDATE):
        result = convert(xlsform=sheet.format(mark=world.mark), file_type=".md")
        call("POST", f"/v1/forms/xform?projectId={world.project}", admin, data=result.xform.encode(),
             headers={"Content-Type": "application/xml"})
    urls = [call("POST", "/v1/app-users", admin, json={"projectId": world.project, "orgUnitIds": [world.v1], "name": f"phone {n}"}).json()["serverUrl"]
            for n in ("A", "B")]
    return {"dataset": f"hh_{world.mark}", "a": urls[0], "b": urls[1]}


def test_the_form_declares_its_entity_list_and_properties(world, phones):
    with client(world, "admin") as c:
        got = c.entity_lists.get(phones["dataset"])
        assert sorted(p.name for p in got.properties) == ["members", "village"]


def offline_edits(world, phones, order):
    """Phone A registers a household (version 1); both phones then edit it offline on
    version 1: A twice in one branch (members, then village), B once (village). The three
    updates arrive in `order`."""
    ds, eid = phones["dataset"], str(uuid.uuid4())
    reg, upd = f"hh_register_{world.mark}", f"hh_update_{world.mark}"
    collect_submit(phones["a"], submission(reg, {"dataset": ds, "id": eid}, {"create": "1"},
                                           {"village": "Alpha", "members": 3}, label="HH Alpha"), device="collect:phone-a")
    branch_a, branch_b = str(uuid.uuid4()), str(uuid.uuid4())
    edits = {
        "a1": (phones["a"], "collect:phone-a", {"update": "1", "baseVersion": 1, "trunkVersion": 1, "branchId": branch_a},
               {"eid": eid, "village": "Alpha", "members": 4}),
        "a2": (phones["a"], "collect:phone-a", {"update": "1", "baseVersion": 2, "trunkVersion": 1, "branchId": branch_a},
               {"eid": eid, "village": "Alpha North", "members": 4}),
        "b1": (phones["b"], "collect:phone-b", {"update": "1", "baseVersion": 1, "trunkVersion": 1, "branchId": branch_b},
               {"eid": eid, "village": "Alpha Bazar", "members": 3}),
    }
    for name in order:
        url, device, attrs, answers = edits[name]
        collect_submit(url, submission(upd, {"dataset": ds, "id": eid}, attrs, answers), device=device)
    return eid


@pytest.mark.parametrize("order", [["a1", "a2", "b1"], ["a2", "b1", "a1"], ["b1", "a2", "a1"]])
def test_two_phones_offline_merge_per_field_in_any_order(world, phones, order):
    eid = offline_edits(world, phones, order)
    with client(world, "admin") as c:
        e = [x for x in c.entities.list(entity_list_name=phones["dataset"]) if x.uuid == eid]
        assert len(e) == 1
        # Four writes applied (the create and three updates): none held, none dropped.
        assert e[0].currentVersion.version == 4
        assert e[0].conflict == "hard"
        shown = e[0].currentVersion
    # Both phones download the merged household again, as Collect does before the next
    # visit: formList, the update form's manifest, the entity list CSV (hash checked).
    for phone in ("a", "b"):
        kind, body = manifest_of(phones[phone], f"hh_update_{world.mark}")[f"{phones['dataset']}.csv"]
        assert kind == "entityList"
        row = [r for r in csv.DictReader(io.StringIO(body.decode(), newline="")) if r["name"] == eid]
        assert row == [{"name": eid, "label": shown.label, "__version": "4",
                        "village": shown.data["village"], "members": shown.data["members"]}], (phone, body)
    pulled = pull_entity(token(f"admin-{world.mark}", world.password), eid)
    # Collect sends every saved property, changed or not. members: A changed it (3 → 4),
    # B sent the 3 it had from version 1, which is no edit: A's 4 stands alone.
    assert pulled["fields"]["members"] == "4" and "members" not in pulled.get("conflicts", {})
    # village: A's later edit (Alpha North, which saw A's own first edit) and B's are
    # concurrent: both kept. A's first value (Alpha) is gone: its own later edit covers it.
    assert sorted(v["value"] for v in pulled["conflicts"]["village"]) == ["Alpha Bazar", "Alpha North"]


def test_an_update_of_an_unknown_entity_is_held_until_it_is_created(world, phones):
    ds, eid = phones["dataset"], str(uuid.uuid4())
    upd, reg = f"hh_update_{world.mark}", f"hh_register_{world.mark}"
    collect_submit(phones["b"], submission(upd, {"dataset": ds, "id": eid}, {"update": "1", "baseVersion": 1},
                                           {"eid": eid, "village": "Late", "members": 7}), device="collect:phone-b")
    with client(world, "admin") as c:
        assert not [x for x in c.entities.list(entity_list_name=ds) if x.uuid == eid]
    collect_submit(phones["a"], submission(reg, {"dataset": ds, "id": eid}, {"create": "1"},
                                           {"village": "Early", "members": 2}, label="HH Early"), device="collect:phone-a")
    with client(world, "admin") as c:
        e = [x for x in c.entities.list(entity_list_name=ds) if x.uuid == eid][0]
        assert e.currentVersion.version == 2
        assert e.currentVersion.data["village"] == "Late" and e.currentVersion.data["members"] == "7"


def test_bad_entity_blocks_are_4xx_and_write_nothing(world, phones):
    ds, upd = phones["dataset"], f"hh_update_{world.mark}"
    eid = str(uuid.uuid4())
    for attrs, entity_id in [({"update": "1", "baseVersion": "x"}, eid), ({"update": "1", "baseVersion": 1}, "not-a-uuid"),
                             ({"update": "1"}, eid)]:
        xml = submission(upd, {"dataset": ds, "id": entity_id}, attrs, {"eid": eid, "village": "V", "members": 1})
        r = requests.post(phones["a"] + "/submission", headers={"X-OpenRosa-Version": "1.0"},
                          files={"xml_submission_file": ("submission.xml", xml, "text/xml")}, timeout=30)
        assert 400 <= r.status_code < 500, (attrs, r.status_code, r.text)


def test_a_held_update_is_released_by_an_entity_made_through_pyodk(world, phones):
    """Phone B's update arrives before the entity exists anywhere; a data manager then
    creates it with pyodk (Central's API), which releases the update, written as phone B's."""
    ds, eid = phones["dataset"], str(uuid.uuid4())
    collect_submit(phones["b"], submission(f"hh_update_{world.mark}", {"dataset": ds, "id": eid}, {"update": "1", "baseVersion": 1},
                                           {"eid": eid, "village": "From B", "members": 9}), device="collect:phone-b")
    with client(world, "agent") as c:
        made = c.entities.create(label="HH Made", data={"village": "Made", "members": "1"}, entity_list_name=ds, uuid=eid)
        # The answer is read after the write: the released update is in it already.
        assert made.currentVersion.version == 2
        e = [x for x in c.entities.list(entity_list_name=ds) if x.uuid == eid][0]
        assert e.currentVersion.version == 2
        assert (e.currentVersion.data["village"], e.currentVersion.data["members"]) == ("From B", "9")
