#!/usr/bin/env python3
"""Build FieldSync sample org-unit data for Bangladesh.

Reads the raw Bangladesh admin data (divisions.json, districts.json,
districts.geojson, upazilas.json, unions.json, LICENSE) and writes:

    sampledata/bangladesh/orgunit-types.json
    sampledata/bangladesh/orgunits.json
    sampledata/bangladesh/LICENSE

Usage:
    python3 scripts/make-sampledata.py [SOURCE_DIR] [--out OUT_DIR]

SOURCE_DIR defaults to <repo>/../shared/data/bangladesh and OUT_DIR to
<repo>/sampledata/bangladesh, where <repo> is the parent of this script's
directory.  Python 3 standard library only.  The output is deterministic:
re-running on the same input produces byte-identical files (ids are UUIDv5).
"""

import argparse
import json
import math
import os
import re
import sys
import unicodedata
import uuid

# Fixed namespace for every id generated here.  Never change it: the ids in
# the committed sample data (and anything built on top of them) derive from it.
NAMESPACE = uuid.UUID("fd1069e8-b9a8-4b7d-a2d8-4e29a79d706e")

COORD_DECIMALS = 6  # ~0.1 m at Bangladesh's latitude

# Org-unit types: (key, name, depth).  id = uuid5(NAMESPACE, "orgunit-type/<key>").
TYPES = [
    ("country", "Country", 0),
    ("division", "Division", 1),
    ("district", "District", 2),
    ("upazila", "Upazila", 3),
    ("union", "Union", 4),
]

COUNTRY_NAME = "Bangladesh"
COUNTRY_BN = "বাংলাদেশ"

# Equivalent spellings of the same place, compared after norm() below.  Both
# the districts.json names and the geojson ADM2_EN/ADM1_EN names are mapped to
# the first entry of their group before matching.  Only a few groups are
# actually needed by the current data (the script prints which ones were
# used); the others cover spellings either file may switch to (the 2018
# official romanisations vs. the older ones).
EQUIVALENT_SPELLINGS = [
    ("chattogram", "chittagong", "chattagram"),
    ("cumilla", "comilla"),
    ("barishal", "barisal"),
    ("bogura", "bogra"),
    ("jashore", "jessore"),
    ("brahmanbaria", "brahamanbaria"),
    ("chapainawabganj", "nawabganj", "chapai nawabganj"),
    ("jhalakathi", "jhalokati", "jhalokathi", "jhalakati"),
    ("moulvibazar", "maulvibazar"),
    ("netrokona", "netrakona"),
]

# Invisible direction marks that appear as typos inside some Bengali names.
# ZWNJ/ZWJ (U+200C/U+200D) are meaningful in Bengali script and are kept.
STRIP_CHARS = dict.fromkeys(map(ord, "\u200e\u200f\ufeff"), None)


def norm(s):
    """Loose comparison key: ASCII letters/digits only, lower case."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", s.casefold())


_CANON = {}
for _group in EQUIVALENT_SPELLINGS:
    for _spelling in _group:
        _CANON[norm(_spelling)] = norm(_group[0])


def canon(s):
    k = norm(s)
    return _CANON.get(k, k)


def clean(s):
    """Trim and collapse whitespace, drop stray direction marks."""
    s = s.translate(STRIP_CHARS)
    return re.sub(r"\s+", " ", s).strip()


def fail(msg):
    print("ERROR: " + msg, file=sys.stderr)
    sys.exit(1)


def uid(key):
    return str(uuid.uuid5(NAMESPACE, key))


def load(src, name):
    path = os.path.join(src, name)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        fail("cannot read %s: %s" % (path, e))


def finite(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def clean_geometry(geom, label, stats):
    """Round to COORD_DECIMALS, drop consecutive duplicates, keep rings valid."""
    if geom.get("type") != "MultiPolygon":
        fail("%s: geometry type %r, expected MultiPolygon" % (label, geom.get("type")))
    polys = []
    for pi, poly in enumerate(geom["coordinates"]):
        rings = []
        for ri, ring in enumerate(poly):
            out = []
            for pos in ring:
                if len(pos) < 2 or not finite(pos[0]) or not finite(pos[1]):
                    fail("%s: bad position %r" % (label, pos))
                p = [round(float(pos[0]), COORD_DECIMALS), round(float(pos[1]), COORD_DECIMALS)]
                stats["positions_in"] += 1
                if out and out[-1] == p:
                    stats["dup_dropped"] += 1
                    continue
                out.append(p)
            if out and out[0] != out[-1]:
                out.append(list(out[0]))  # close ring
                stats["closed"] += 1
            if len(out) < 4:
                if ri == 0:
                    print("  warning: %s polygon %d: exterior ring degenerate after rounding, polygon dropped"
                          % (label, pi))
                    stats["polys_dropped"] += 1
                    rings = None
                    break
                print("  warning: %s polygon %d: hole %d degenerate after rounding, dropped" % (label, pi, ri))
                stats["holes_dropped"] += 1
                continue
            stats["positions_out"] += len(out)
            rings.append(out)
        if rings:
            polys.append(rings)
    if not polys:
        fail("%s: no polygon left after cleaning" % label)
    return {"type": "MultiPolygon", "coordinates": polys}


def point_in_multipolygon(x, y, coords):
    def in_ring(ring):
        inside = False
        for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside

    for poly in coords:
        if in_ring(poly[0]) and not any(in_ring(h) for h in poly[1:]):
            return True
    return False


def aliases_for(row, *extra):
    out = []
    for a in (clean(row.get("bn_name") or ""),) + extra:
        if a and a != clean(row["name"]) and a not in out:
            out.append(a)
    return out


def unit(id_, parent, name, type_id, aliases, location=None, geometry=None):
    u = {"id": id_, "parentId": parent, "name": name, "orgUnitTypeId": type_id, "aliases": aliases}
    if location is not None:
        u["location"] = location
    if geometry is not None:
        u["geometry"] = geometry
    return u


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", nargs="?",
                    default=os.path.normpath(os.path.join(repo, "..", "shared", "data", "bangladesh")),
                    help="directory with the raw Bangladesh data (default: <repo>/../shared/data/bangladesh)")
    ap.add_argument("--out", default=os.path.join(repo, "sampledata", "bangladesh"),
                    help="output directory (default: <repo>/sampledata/bangladesh)")
    args = ap.parse_args()
    src = args.source
    print("source: %s" % src)
    print("output: %s" % args.out)

    divisions = load(src, "divisions.json")
    districts = load(src, "districts.json")
    upazilas = load(src, "upazilas.json")
    unions = load(src, "unions.json")
    geo = load(src, "districts.geojson")

    type_id = {k: uid("orgunit-type/" + k) for k, _, _ in TYPES}
    types = [{"id": type_id[k], "name": n, "depth": d} for k, n, d in TYPES]

    warnings = []
    units = []
    country_id = uid("bd/country/BD")
    units.append(unit(country_id, None, COUNTRY_NAME, type_id["country"], [COUNTRY_BN]))

    def check_ids(rows, what):
        seen = set()
        for r in rows:
            if r["id"] in seen:
                fail("duplicate %s id %r" % (what, r["id"]))
            seen.add(r["id"])

    # ---- divisions
    check_ids(divisions, "division")
    div_uuid = {}
    div_canon = {}
    for r in divisions:
        div_uuid[r["id"]] = uid("bd/division/" + r["id"])
        div_canon[r["id"]] = canon(r["name"])
        units.append(unit(div_uuid[r["id"]], country_id, clean(r["name"]), type_id["division"], aliases_for(r)))

    # ---- district polygons: match districts.json names to geojson ADM2_EN
    features = geo.get("features") or []
    by_key = {}
    for f in features:
        props = f.get("properties") or {}
        name = props.get("ADM2_EN")
        if not name:
            fail("geojson feature without ADM2_EN: %r" % props)
        k = canon(name)
        if k in by_key:
            fail("two geojson features match %r: %r and %r" % (k, by_key[k]["properties"]["ADM2_EN"], name))
        by_key[k] = f
    matched = {}
    unmatched = []
    for r in districts:
        k = canon(r["name"])
        if k not in by_key:
            unmatched.append(r["name"])
            continue
        if k in matched.values():
            fail("two districts match geojson feature %r" % by_key[k]["properties"]["ADM2_EN"])
        matched[r["id"]] = k
    leftover = sorted(set(by_key) - set(matched.values()))
    if unmatched or leftover:
        fail("district/polygon matching failed; districts without a polygon: [%s]; "
             "polygons matching no district: [%s]; extend EQUIVALENT_SPELLINGS"
             % (", ".join(unmatched), ", ".join(by_key[k]["properties"]["ADM2_EN"] for k in leftover)))

    # ---- districts
    check_ids(districts, "district")
    dist_uuid = {}
    alias_pairs = []
    geom_stats = dict.fromkeys(
        ["positions_in", "positions_out", "dup_dropped", "closed", "holes_dropped", "polys_dropped"], 0)
    for r in districts:
        if r["division_id"] not in div_uuid:
            msg = "district %s %r: division_id %r does not exist, dropped" % (r["id"], r["name"], r["division_id"])
            print("  warning: " + msg)
            warnings.append(msg)
            continue
        name = clean(r["name"])
        feat = by_key[matched[r["id"]]]
        geo_name = clean(feat["properties"]["ADM2_EN"])
        geo_div = feat["properties"].get("ADM1_EN")
        if geo_div and canon(geo_div) != div_canon[r["division_id"]]:
            fail("district %r: geojson says division %r, districts.json says division id %s"
                 % (name, geo_div, r["division_id"]))
        extra = ()
        if geo_name != name:
            alias_pairs.append((name, geo_name, "normalised" if norm(name) == norm(geo_name) else "table"))
            extra = (geo_name,)
        try:
            lat, lon = float(r["lat"]), float(r["lon"])
        except (KeyError, TypeError, ValueError):
            fail("district %r: bad lat/lon %r/%r" % (name, r.get("lat"), r.get("lon")))
        if not (finite(lat) and finite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            fail("district %r: lat/lon out of range %r/%r" % (name, lat, lon))
        geometry = clean_geometry(feat["geometry"], "district %r" % name, geom_stats)
        if not point_in_multipolygon(lon, lat, geometry["coordinates"]):
            msg = "district %r: location (%s, %s) is outside its polygon (kept)" % (name, lon, lat)
            print("  warning: " + msg)
            warnings.append(msg)
        dist_uuid[r["id"]] = uid("bd/district/" + r["id"])
        units.append(unit(dist_uuid[r["id"]], div_uuid[r["division_id"]], name, type_id["district"],
                          aliases_for(r, *extra),
                          location={"type": "Point", "coordinates": [lon, lat]},
                          geometry=geometry))

    # ---- upazilas and unions
    def children(rows, what, parent_key, parents, prefix, tkey):
        check_ids(rows, what)
        ids = {}
        for r in rows:
            if r[parent_key] not in parents:
                msg = "%s %s %r: %s %r does not exist, dropped" % (what, r["id"], r["name"], parent_key, r[parent_key])
                print("  warning: " + msg)
                warnings.append(msg)
                continue
            ids[r["id"]] = uid(prefix + r["id"])
            units.append(unit(ids[r["id"]], parents[r[parent_key]], clean(r["name"]), type_id[tkey], aliases_for(r)))
        return ids

    upa_uuid = children(upazilas, "upazila", "district_id", dist_uuid, "bd/upazila/", "upazila")
    uni_uuid = children(unions, "union", "upazilla_id", upa_uuid, "bd/union/", "union")

    # ---- sanity checks on the result
    all_ids = [u["id"] for u in units]
    if len(all_ids) != len(set(all_ids)):
        fail("generated ids collide")
    known = set()
    for u in units:  # parents-first: every parent already seen
        if u["parentId"] is not None and u["parentId"] not in known:
            fail("unit %r written before its parent" % u["name"])
        if not u["name"]:
            fail("unit %s has an empty name" % u["id"])
        known.add(u["id"])

    # sibling name duplicates (kept: they are distinct source rows)
    seen = {}
    for u in units:
        k = (u["parentId"], u["name"].casefold())
        seen.setdefault(k, []).append(u)
    names = {u["id"]: u["name"] for u in units}
    dups = [v for v in seen.values() if len(v) > 1]
    if dups:
        print("note: %d sibling name duplicate(s) in the source, kept as separate units:" % len(dups))
        for v in dups:
            print("  %r under %r (%d units, aliases %s)"
                  % (v[0]["name"], names[v[0]["parentId"]], len(v), " / ".join(",".join(u["aliases"]) for u in v)))

    # ---- write
    os.makedirs(args.out, exist_ok=True)

    def dump(obj):
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    def write_array(fn, rows):
        path = os.path.join(args.out, fn)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("[\n" + ",\n".join(dump(x) for x in rows) + "\n]\n")
        return path

    paths = [write_array("orgunit-types.json", types), write_array("orgunits.json", units)]

    with open(os.path.join(src, "LICENSE"), encoding="utf-8") as f:
        lic = f.read().rstrip("\n") + "\n"
    lic += ("\n---\n"
            "Source: the FieldSync project's shared data folder (shared/data/bangladesh):\n"
            "bangladesh divisions/districts/upazilas/unions with district boundaries.\n"
            "Converted to FieldSync org units by scripts/make-sampledata.py.\n")
    lpath = os.path.join(args.out, "LICENSE")
    with open(lpath, "w", encoding="utf-8", newline="\n") as f:
        f.write(lic)
    paths.append(lpath)

    # ---- report
    counts = {}
    for u in units:
        counts[u["orgUnitTypeId"]] = counts.get(u["orgUnitTypeId"], 0) + 1
    print("counts:")
    for k, n, _ in TYPES:
        print("  %-8s %5d" % (n, counts.get(type_id[k], 0)))
    print("  %-8s %5d" % ("total", len(units)))
    print("district spelling aliases (districts.json name -> districts.geojson ADM2_EN, matched by):")
    for a, b, how in alias_pairs:
        print("  %-16s -> %-16s (%s)" % (a, b, how))
    print("  %d district(s) with a second spelling; 64/64 polygons matched, none left over" % len(alias_pairs)
          if len(districts) == 64 else "  %d pairs" % len(alias_pairs))
    used = sorted({canon(a) for a, b, how in alias_pairs if how == "table"})
    print("equivalence table groups used: %s" % ", ".join(used))
    print("geometry: %(positions_in)d positions in, %(positions_out)d out, %(dup_dropped)d consecutive duplicates "
          "dropped, %(closed)d rings re-closed, %(holes_dropped)d holes and %(polys_dropped)d polygons dropped"
          % geom_stats)
    print("warnings: %d" % len(warnings))
    print("files:")
    total = 0
    for p in paths:
        sz = os.path.getsize(p)
        total += sz
        print("  %9d  %s" % (sz, p))
    print("  %9d  total" % total)


if __name__ == "__main__":
    main()
