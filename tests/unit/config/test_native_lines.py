"""Finding the line of every key in a TOML file (tomllib gives values without lines)."""

from __future__ import annotations

from hypothesis import given, settings
from strategies import cluster_configs

from vigil.config import ClusterConfig
from vigil.config.convert import literal, to_toml
from vigil.config.toml_lines import locate

DOC = """\
# comment [[not_a_table]]
[cluster]
name = "x" # trailing
[[resource]]
id = "a"
params = { ip = "1", "odd key" = 'C:\\path', n = 2 }
op = [
  { name = "monitor", interval = "10s" },  # one
  { name = "start" },
]
note = \"\"\"
[[resource]]
id = "fake"
\"\"\"\"\"
[[resource]]
id = "b"
[[resource.op]]
name = "x"
[resource.params]
a.b = 1
"""


def test_keys_tables_and_array_elements_get_their_lines() -> None:
    lines = locate(DOC)
    assert lines.exact(("cluster", "name")) == 3
    assert lines.exact(("resource", 0)) == 4
    assert lines.exact(("resource", 0, "params", "odd key")) == 6
    assert lines.exact(("resource", 0, "op", 1, "name")) == 9
    assert lines.exact(("resource", 0, "note")) == 11
    assert lines.exact(("resource", 1, "id")) == 16
    assert lines.exact(("resource", 1, "op", 0, "name")) == 18
    assert lines.exact(("resource", 1, "params", "a", "b")) == 20
    # An unwritten key falls back to the nearest written parent.
    assert lines.of(("resource", 1, "op", 0, "timeout")) == 17
    assert lines.exact(("resource", 2)) is None


@settings(max_examples=40, deadline=None)
@given(cluster_configs())
def test_each_node_resource_and_group_is_found_at_its_own_line(config: ClusterConfig) -> None:
    text = to_toml(config)
    rows = text.split("\n")  # not splitlines(): U+0085 and friends are no TOML line end
    lines = locate(text)
    for kind, key, values in (("node", "name", [n.name for n in config.nodes]),
                              ("resource", "id", [r.id for r in config.resources]),
                              ("group", "id", [g.id for g in config.groups]),
                              ("link", "name", [lk.name for lk in config.links])):
        for i, value in enumerate(values):
            line = lines.exact((kind, i, key))
            assert line is not None
            assert rows[line - 1] == f"{key} = {literal(value)}"
