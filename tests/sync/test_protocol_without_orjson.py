"""A PC where orjson has no wheel runs the pure-Python path: the same bytes on the wire and in digests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sync import protocol as p

ROOT = Path(__file__).resolve().parents[2]

#: Values as a station sends them and a hub digests them: Chinese text, escapes, big integers,
#: integer keys, and floats decoded from the wire.
SAMPLES_SOURCE = r'''
from sync import protocol as p
samples = [
    {"event_id": "01J0000000000000000000000A", "kind": "case.submitted", "seq": 3,
     "payload": {"applicant": "张三", "note": "引号\"\\反斜杠\n\t\x7f\u2028", "n": [1, -1, 0, True, None]}},
    {"big": 2**64 + 1, "c": {"2": 1, "10": 2}},
    {1: "int key"},
    p.decode_body(b'{"rate": 1e-05, "share": 0.1, "huge": 1.5e300, "n": [2.0, -0.0]}'),
    ["𠮷䶮", {"空": {}}, []],
]
'''


def _encoded_without_orjson() -> dict:
    script = ("import sys, json; sys.modules['orjson'] = None\n" + SAMPLES_SOURCE +
              "print(json.dumps({'orjson_loaded': p.orjson is not None,"
              " 'canonical': [p.canonical_json(s).hex() for s in samples],"
              " 'text': [p.json_text(s) for s in samples],"
              " 'body': [p.encode_body(s).hex() for s in samples]}))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_without_orjson_digests_and_bodies_are_byte_identical():
    namespace: dict = {}
    exec(SAMPLES_SOURCE, namespace)  # the same values, encoded here with orjson present
    samples = namespace["samples"]
    hidden = _encoded_without_orjson()
    assert hidden["orjson_loaded"] is False
    assert p.orjson is not None, "this test compares against orjson: it must be installed here"
    assert hidden["canonical"] == [p.canonical_json(s).hex() for s in samples]
    # stored text and request bodies too (the samples hold no float orjson would write its own way)
    assert hidden["text"] == [p.json_text(s) for s in samples]
    assert hidden["body"] == [p.encode_body(s).hex() for s in samples]
