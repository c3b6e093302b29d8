#!/usr/bin/env python3
"""Generate the compact FHIR R4 (4.0.1) type model `src/fhir/r4.model` used by model.rs.

Source: the R4 schema embedded in the crates.io package octofhir-fhirschema 0.3.33
(`precompiled_schemas/r4_schemas.json`), the same model the project's FHIRPath
engine (octofhir-fhirpath =0.4.57, through octofhir-fhir-model 0.1.17) loads.  It
is a FHIR-Schema rendering of HL7's hl7.fhir.r4.core 4.0.1 StructureDefinitions:
each element carries its type, `array` (max != "1"), `choices`/`choiceOf` for
`[x]` elements, `elementReference` for contentReference, and `index`, its position
in the StructureDefinition (element order).

Usage:
    python3 tools/gen_r4_model.py [--schema PATH] [--out src/fhir/r4.model]

Without --schema the script looks for the crate in $CARGO_HOME/registry/src and,
if it is not there, runs `cargo info octofhir-fhirschema@0.3.33`, which downloads
the crate's source with the ordinary cargo client (nothing is built).

Output format (one type a line, `#` lines are comments):

    <kind> <Name> <base> <element> <element> ...

kind: P primitive (base is then the JSON kind: b boolean, i integer, d decimal,
      s string, x xhtml), A abstract type, C complex datatype, R resource,
      B backbone (inline) element type named by its path, e.g. `Bundle.entry`.
base: the type whose elements come first ("-" for none).
element: `name[*]:Type1,Type2,...`; `*` = repeats (max != "1"); a name ending in
      `[x]` is a choice element (its types in definition order); a type containing
      a dot is a backbone type (also used for contentReference).
Only the elements a type adds to its base are listed, in definition order.
Which elements are XML attributes (Element.id, Extension.url) is fixed by the
FHIR XML rules and coded in model.rs.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

CRATE = "octofhir-fhirschema"
VERSION = "0.3.33"
JSON_KIND = {
    "boolean": "b",
    "integer": "i",
    "positiveInt": "i",
    "unsignedInt": "i",
    "decimal": "d",
    "xhtml": "x",
}
ABSTRACT = {"Element", "BackboneElement", "Resource", "DomainResource"}


def find_schema():
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    pattern = os.path.join(home, "registry", "src", "*", f"{CRATE}-{VERSION}",
                           "precompiled_schemas", "r4_schemas.json")
    hits = glob.glob(pattern)
    if not hits:
        subprocess.run(["cargo", "info", f"{CRATE}@{VERSION}"], check=True,
                       stdout=subprocess.DEVNULL, cwd=os.path.expanduser("~"))
        hits = glob.glob(pattern)
    if not hits:
        raise SystemExit(f"cannot find {pattern}")
    return hits[0]


def base_name(schema):
    base = schema.get("base")
    return base.rsplit("/", 1)[1] if base else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema")
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "src", "fhir", "r4.model"))
    args = ap.parse_args()
    path = args.schema or find_schema()
    with open(path, encoding="utf-8") as f:
        schemas = json.load(f)

    types = {}
    for name, s in schemas.items():
        if s.get("kind") == "logical" or s.get("derivation") == "constraint":
            continue  # logical models, profiles, extensions, SimpleQuantity, ...
        if s.get("version") != "4.0.1" or s.get("type") != name:
            raise SystemExit(f"unexpected schema {name}")
        types[name] = s

    lines = []
    stats = {"P": 0, "A": 0, "C": 0, "R": 0, "B": 0}

    def emit(kind, name, base, elements, path):
        """Emit one type line, then its backbone types (depth first, in order)."""
        stats[kind] += 1
        tokens = []
        nested = []
        ordered = sorted(elements.items(), key=lambda kv: kv[1]["index"])
        for ename, e in ordered:
            if "choiceOf" in e:
                continue
            flag = "*" if e.get("array") else ""
            if "choices" in e:
                tys = []
                for c in e["choices"]:
                    ce = elements[c]
                    if ce.get("choiceOf") != ename or c != ename + ce["type"][0].upper() + ce["type"][1:]:
                        raise SystemExit(f"bad choice {path}.{c}")
                    if bool(ce.get("array")) != bool(e.get("array")):
                        raise SystemExit(f"bad choice cardinality {path}.{c}")
                    tys.append(ce["type"])
                tokens.append(f"{ename}[x]{flag}:{','.join(tys)}")
            elif "elementReference" in e:
                ref = e["elementReference"]
                root = ref[0].rsplit("/", 1)[1]
                if ref[1::2] != ["elements"] * (len(ref) // 2):
                    raise SystemExit(f"bad elementReference {path}.{ename}: {ref}")
                tokens.append(f"{ename}{flag}:{'.'.join([root] + ref[2::2])}")
            elif "elements" in e:
                if e["type"] not in ("BackboneElement", "Element"):
                    raise SystemExit(f"unexpected backbone type {path}.{ename}")
                sub = f"{path}.{ename}"
                tokens.append(f"{ename}{flag}:{sub}")
                nested.append((sub, e["type"], e["elements"]))
            else:
                tokens.append(f"{ename}{flag}:{e['type']}")
        lines.append(" ".join([kind, name, base] + tokens))
        for sub, b, els in nested:
            emit("B", sub, b, els, sub)

    def order_key(kv):
        kinds = {"primitive-type": 0, "complex-type": 1, "resource": 2}
        return (kinds[kv[1]["kind"]], kv[0])

    for name, s in sorted(types.items(), key=order_key):
        if s["kind"] == "primitive-type":
            if s.get("elements"):
                raise SystemExit(f"primitive {name} has elements")
            stats["P"] += 1
            lines.append(f"P {name} {JSON_KIND.get(name, 's')}")
            continue
        kind = "A" if name in ABSTRACT else ("R" if s["kind"] == "resource" else "C")
        emit(kind, name, base_name(s), s.get("elements") or {}, name)

    header = [
        "# FHIR R4 4.0.1 type model, generated by tools/gen_r4_model.py from",
        f"# {CRATE} {VERSION} precompiled_schemas/r4_schemas.json (crates.io).",
        "# Format: see the generator's docstring. Do not edit by hand.",
    ]
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(header + lines) + "\n")
    print(f"wrote {os.path.normpath(args.out)}: {stats}, "
          f"{os.path.getsize(args.out)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
