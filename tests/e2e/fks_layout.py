"""The dedicated layout for the end-to-end scripts (chaos.py,
test_supervise.py): one runner per stage, so that every stage is a process
of its own to kill or stop.  tests/support/fks_test.c holds the same block
for the C tests (FKS_TEST_LAYOUT=dedicated)."""
import re

DEDICATED = ("stages:\n"
             "  feed:\n    core: 0\n    wait: park\n"
             "  strategy:\n    core: 1\n    wait: park\n"
             "  risk:\n    core: 1\n    wait: park\n"
             "  gateway:\n    core: 0\n    wait: park\n"
             "  journal:\n    core: 0\n    wait: park\n")


def dedicated(text):
    """text, a config with the default's runners and stages block, with that
    block replaced by the dedicated layout; and how many blocks were
    replaced (1, or 0 when the config has none)."""
    return re.subn(r"(?ms)^runners:\n.*?^    runner: journal\n", DEDICATED, text)
