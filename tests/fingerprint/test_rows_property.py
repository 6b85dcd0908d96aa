"""Property: any table written as CSV in any column order, quoting style or line ending has one root,
and that root is the RFC 6962 root of the canonical rows."""

import csv
import io
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityledger.fingerprint import rows_root

from .test_rows import reference_root

# Printable text plus quotes, commas and line breaks inside values; CR alone is excluded from
# values because the canonical form turns it into LF (tested separately in test_rows).
value = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff")
    | st.sampled_from([",", '"', "\n", " "]),
    max_size=8,
)
names = st.lists(st.text(alphabet="abcdefghijklmnop_é", min_size=1, max_size=5), min_size=1, max_size=5, unique=True)


@st.composite
def tables(draw):
    cols = draw(names)
    rows = draw(st.lists(st.fixed_dictionaries({c: value for c in cols}), max_size=12))
    # csv cannot write a one-column row whose only value is "" distinctly from an empty line
    if len(cols) == 1:
        rows = [r for r in rows if r[cols[0]] != ""]
    return cols, rows


def render(cols, rows, order, quoting, newline):
    out = io.StringIO()
    w = csv.writer(out, quoting=quoting, lineterminator="\n")
    w.writerow([cols[i] for i in order])
    for r in rows:
        w.writerow([r[cols[i]] for i in order])
    # every line break, also those inside quoted values, in the chosen style
    return out.getvalue().replace("\n", newline)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables(), seed=st.integers(0, 2**32))
def test_root_is_invariant_under_layout(tmp_path, table, seed):
    cols, rows = table
    rng = random.Random(seed)
    expected = reference_root(rows)
    for k, (quoting, newline) in enumerate([(csv.QUOTE_MINIMAL, "\n"), (csv.QUOTE_ALL, "\r\n")]):
        order = list(range(len(cols)))
        rng.shuffle(order)
        p = tmp_path / f"t{k}.csv"
        p.write_bytes(render(cols, rows, order, quoting, newline).encode("utf-8"))
        fp = rows_root(p)
        assert fp.count == len(rows)
        assert fp.root == expected
